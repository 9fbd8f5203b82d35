package results

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/hadrill/hadrill/checker"
)

// checkOrder is the order checks are listed in, the order DESIGN.md
// introduces them; other checks follow by name.
var checkOrder = []string{
	checker.CheckLinearizability, checker.CheckRTO, checker.CheckRPO, checker.CheckAvailability, checker.CheckFaults,
}

// checkNames lists a verdict's checks in checkOrder.
func checkNames(checks map[string]checker.Check) []string {
	var out []string
	for _, n := range checkOrder {
		if _, ok := checks[n]; ok {
			out = append(out, n)
		}
	}
	var rest []string
	for n := range checks {
		if !slices.Contains(checkOrder, n) {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// checkRow is one check formatted for a table.
type checkRow struct {
	Name, Result, Value, Target, Unit, Detail string
}

// checkRows formats a verdict's checks.
func checkRows(checks map[string]checker.Check) []checkRow {
	var out []checkRow
	for _, n := range checkNames(checks) {
		c := checks[n]
		r := checkRow{Name: n, Result: string(c.Result), Unit: c.Unit, Detail: c.Detail,
			Value: "–", Target: "–"}
		switch {
		case c.Unbounded:
			r.Value = "unbounded"
		case c.Value != nil:
			r.Value = formatValue(*c.Value, c.Unit)
		}
		if c.Target != nil {
			r.Target = formatValue(*c.Target, c.Unit)
		}
		if c.WindowSeconds != nil && *c.WindowSeconds > 0 {
			r.Value += fmt.Sprintf(" (window %s s)", formatValue(*c.WindowSeconds, "seconds"))
		}
		out = append(out, r)
	}
	return out
}

// formatValue prints a measurement with the precision its unit deserves:
// ratios to a hundredth of a percent, seconds to the millisecond, counts
// whole.
func formatValue(v float64, unit string) string {
	switch {
	case math.IsInf(v, 1):
		return "unbounded"
	case math.IsNaN(v):
		return "–"
	}
	switch unit {
	case "ratio":
		return strconv.FormatFloat(v, 'f', 4, 64)
	case "seconds":
		return strconv.FormatFloat(v, 'f', 3, 64)
	case "writes", "runs":
		return strconv.FormatFloat(v, 'f', 0, 64)
	case "ms":
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// optSeconds formats an optional time in seconds.
func optSeconds(v *float64) string {
	if v == nil {
		return "–"
	}
	return formatValue(*v, "seconds")
}

// faultRow is one fault formatted for a table.
type faultRow struct {
	ID                                     int
	Kind, Target, Nodes                    string
	Requested, Effective, Healed           string
	FirstEffective, EffectLatency          string
	RTO, Availability, WindowP99, Measured string
	Errors                                 string
}

// faultRows formats a run's faults. windowP99 gives the p99 latency of ok
// operations (seconds) inside each fault's window, by fault id. A fault's
// RTO shows "–" when the record has none: not disruptive, unknown, or
// unbounded (the RTO check's row says which).
func faultRows(faults []FaultRecord, windowP99 map[int]float64) []faultRow {
	var out []faultRow
	for _, f := range faults {
		r := faultRow{
			ID: f.ID, Kind: f.Kind, Target: f.Target, Nodes: strings.Join(f.Nodes, ", "),
			Requested: formatValue(f.Requested, "seconds"),
			Effective: optSeconds(f.Effective), Healed: optSeconds(f.Healed),
			FirstEffective: optSeconds(f.FirstEffective), EffectLatency: "–",
			RTO: "–", Availability: "–", WindowP99: "–",
			Measured: formatMeasured(f.Measured), Errors: strings.Join(f.Errors, "; "),
		}
		if f.EffectLatency != nil {
			r.EffectLatency = formatValue(*f.EffectLatency*1000, "ms") + " ms"
		}
		if f.RTO != nil {
			r.RTO = formatValue(*f.RTO, "seconds")
		}
		if f.Availability != nil {
			r.Availability = formatValue(*f.Availability, "ratio")
		}
		if p, ok := windowP99[f.ID]; ok {
			r.WindowP99 = formatValue(p*1000, "ms") + " ms"
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
	ms := func(s float64) string { return formatValue(s*1000, "ms") }
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
