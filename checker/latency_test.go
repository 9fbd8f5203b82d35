package checker

import "testing"

// TestLatency checks the quantiles on the latency fixture, whose latencies
// are known by construction (seconds):
//
//	read   0.01, 0.02, ..., 0.10 (invoked at 0.0, 0.2, ..., 1.8)
//	write  0.005, 0.005, 0.005, 0.2 ok; one failed (not counted)
//	cas    0.03 ok; one failed (not counted)
//	ledger 0.02, 0.04
//
// Empirical quantiles pick the smallest observed value with at least p of
// the sample at or below it: p50 of ten reads is the 5th, 0.05.
// The delay fault's window [1.0, 2.0) holds the reads at 1.0..1.8
// (0.06..0.10) and the ledger write at 1.3 (0.04).
func TestLatency(t *testing.T) {
	r := Latency(load(t, "latency"))
	for _, tc := range []struct {
		name string
		got  map[string]LatencySummary
		kind string
		want LatencySummary
	}{
		{"run read", r.Run, "read", LatencySummary{Count: 10, P50: 0.05, P95: 0.1, P99: 0.1, Max: 0.1}},
		{"run write", r.Run, "write", LatencySummary{Count: 4, P50: 0.005, P95: 0.2, P99: 0.2, Max: 0.2}},
		{"run cas", r.Run, "cas", LatencySummary{Count: 1, P50: 0.03, P95: 0.03, P99: 0.03, Max: 0.03}},
		{"run ledger", r.Run, "ledger", LatencySummary{Count: 2, P50: 0.02, P95: 0.04, P99: 0.04, Max: 0.04}},
		{"run all", r.Run, "all", LatencySummary{Count: 17, P50: 0.04, P95: 0.2, P99: 0.2, Max: 0.2}},
		{"fault read", r.Faults[0].Kinds, "read", LatencySummary{Count: 5, P50: 0.08, P95: 0.1, P99: 0.1, Max: 0.1}},
		{"fault ledger", r.Faults[0].Kinds, "ledger", LatencySummary{Count: 1, P50: 0.04, P95: 0.04, P99: 0.04, Max: 0.04}},
		{"fault all", r.Faults[0].Kinds, "all", LatencySummary{Count: 6, P50: 0.07, P95: 0.1, P99: 0.1, Max: 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got[tc.kind]; got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, ok := r.Faults[0].Kinds["write"]; ok {
		t.Error("the fault window has a write summary, but its only write failed")
	}
	if len(r.Run) != 5 || len(r.Faults) != 1 || r.Faults[0].Fault != 0 {
		t.Errorf("kinds %d, faults %d; want 5 kinds and fault 0", len(r.Run), len(r.Faults))
	}
}

// TestLatencyEmpty checks that an empty history gives empty summaries, not
// a panic from stat.Quantile on no data.
func TestLatencyEmpty(t *testing.T) {
	r := Latency(Input{})
	if len(r.Run) != 0 || len(r.Faults) != 0 {
		t.Errorf("got %+v", r)
	}
}
