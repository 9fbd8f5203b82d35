package runreport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/render"
)

// faultRow is one fault formatted for a table.
type faultRow struct {
	ID                                     int
	Kind, Target, Nodes                    string
	Requested, Effective, Healed           string
	FirstEffective, EffectLatency          string
	RTO, Availability, WindowP99, Measured string
	// Outages lists a fault's outages when it caused more than one.
	Outages string
	Errors  string
}

// faultRows formats a run's faults. windowP99 gives the p99 latency of ok
// operations (seconds) inside each fault's window, by fault id. A fault's
// RTO shows "–" when the record has none: not disruptive, unknown, or
// unbounded (the RTO check's row says which).
func faultRows(faults []results.FaultRecord, windowP99 map[int]float64) []faultRow {
	var out []faultRow
	for _, f := range faults {
		r := faultRow{
			ID: f.ID, Kind: f.Kind, Target: f.Target, Nodes: strings.Join(f.Nodes, ", "),
			Requested: render.FormatValue(f.Requested, "seconds"),
			Effective: render.OptSeconds(f.Effective), Healed: render.OptSeconds(f.Healed),
			FirstEffective: render.OptSeconds(f.FirstEffective), EffectLatency: "–",
			RTO: "–", Availability: "–", WindowP99: "–",
			Measured: formatMeasured(f.Measured), Errors: strings.Join(f.Errors, "; "),
		}
		if f.EffectLatency != nil {
			r.EffectLatency = render.FormatValue(*f.EffectLatency*1000, "ms") + " ms"
		}
		if f.RTO != nil {
			r.RTO = render.FormatValue(*f.RTO, "seconds")
		}
		r.Outages = f.OutagesText()
		if f.Availability != nil {
			r.Availability = render.FormatValue(*f.Availability, "ratio")
		}
		if p, ok := windowP99[f.ID]; ok {
			r.WindowP99 = render.FormatValue(p*1000, "ms") + " ms"
		}
		out = append(out, r)
	}
	return out
}

// formatMeasured lists an injector's measurements, sorted by name.
func formatMeasured(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%g", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// latencyRow is one operation kind's latency, in milliseconds.
type latencyRow struct {
	Kind               string
	Count              int
	P50, P95, P99, Max string
}

// latencyRows formats the whole-run latency by kind, "all" last.
func latencyRows(r checker.LatencyReport) []latencyRow {
	kinds := make([]string, 0, len(r.Run))
	for k := range r.Run {
		if k != "all" {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	if _, ok := r.Run["all"]; ok {
		kinds = append(kinds, "all")
	}
	ms := func(s float64) string { return render.FormatValue(s*1000, "ms") }
	out := make([]latencyRow, 0, len(kinds))
	for _, k := range kinds {
		s := r.Run[k]
		out = append(out, latencyRow{Kind: k, Count: s.Count,
			P50: ms(s.P50), P95: ms(s.P95), P99: ms(s.P99), Max: ms(s.Max)})
	}
	return out
}

// windowP99s picks each fault window's p99 over all kinds, in seconds.
func windowP99s(r checker.LatencyReport) map[int]float64 {
	out := map[int]float64{}
	for _, f := range r.Faults {
		if s, ok := f.Kinds["all"]; ok {
			out[f.Fault] = s.P99
		}
	}
	return out
}
