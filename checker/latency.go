package checker

import (
	"slices"

	"github.com/hadrill/hadrill/history"
)

// LatencySummary describes the latencies of one kind of operation, in
// seconds. Quantiles are empirical (gonum stat.Quantile with stat.Empirical):
// each is a latency that was actually observed, the smallest one with at
// least that share of the sample at or below it.
type LatencySummary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// FaultLatency is the latency inside one fault's window.
type FaultLatency struct {
	Fault int                       `json:"fault"`
	Kinds map[string]LatencySummary `json:"kinds"`
}

// LatencyReport holds latency summaries by operation kind: "read", "write",
// "cas", "ledger" (ledger writes) and "all" (every kind together). A kind
// with no ok operation is absent.
type LatencyReport struct {
	Run    map[string]LatencySummary `json:"run"`
	Faults []FaultLatency            `json:"faults"`
}

// Latency summarises how long ok operations took, from invocation to
// completion, for the whole run and inside each requested fault's window
// (operations invoked in [Requested, Healed)). Only ok operations count: a
// timeout's latency is the client's timeout, not the system's, and a refusal
// is fast because nothing was done. Final reads are left out, as for
// availability. Latency is reported, not judged: there is no target.
func Latency(in Input) LatencyReport {
	faults := in.requested()
	run := map[string][]float64{}
	per := make([]map[string][]float64, len(faults))
	for i := range per {
		per[i] = map[string][]float64{}
	}
	for _, p := range in.paired() {
		if p.Invoke.F == history.FinalRead || p.Outcome() != history.OK {
			continue
		}
		d := seconds(p.Completion.Time - p.Invoke.Time)
		k := kind(p.Invoke)
		run[k] = append(run[k], d)
		run["all"] = append(run["all"], d)
		for i, f := range faults {
			if faultWindow(f).contains(p.Invoke.Time) {
				per[i][k] = append(per[i][k], d)
				per[i]["all"] = append(per[i]["all"], d)
			}
		}
	}
	r := LatencyReport{Run: summarise(run), Faults: make([]FaultLatency, len(faults))}
	for i, f := range faults {
		r.Faults[i] = FaultLatency{Fault: f.ID, Kinds: summarise(per[i])}
	}
	return r
}

// summarise turns samples by kind into summaries by kind.
func summarise(samples map[string][]float64) map[string]LatencySummary {
	out := make(map[string]LatencySummary, len(samples))
	for k, xs := range samples {
		out[k] = summary(xs)
	}
	return out
}

// summary sorts xs (stat.Quantile requires it) and reads off the quantiles.
// xs is never empty: a kind only has samples once one was appended.
func summary(xs []float64) LatencySummary {
	slices.Sort(xs)
	return LatencySummary{
		Count: len(xs),
		P50:   Quantile(xs, 0.50),
		P95:   Quantile(xs, 0.95),
		P99:   Quantile(xs, 0.99),
		Max:   xs[len(xs)-1],
	}
}
