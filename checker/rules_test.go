package checker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
)

// TestA412IsEvidence: a CAS answered 412 happened, and is legal only where
// the register held another value than the expected one.
func TestA412IsEvidence(t *testing.T) {
	// write(x, a) ok, then cas(x: a -> b) = 412 with nothing else running:
	// x certainly held a, so the 412 is a lie.
	r := Linearizability(context.Background(), load(t, "lin-412-while-held"), true, Options{})
	if r.Check.Result != Fail || !strings.Contains(r.Check.Detail, "cas(x, \"a\" -> \"b\") = 412") {
		t.Errorf("412 while x held a: %q %s", r.Check.Result, r.Check.Detail)
	}
	// A concurrent write(x, c) may have come first: the 412 is consistent.
	// A CAS refused with 503 (not primary) certainly did not happen and is
	// left out.
	r = Linearizability(context.Background(), load(t, "lin-412-consistent"), true, Options{})
	if r.Check.Result != Pass || r.Operations != 4 {
		t.Errorf("consistent 412: %q %s, %d operations (want 4: the 503 is dropped)", r.Check.Result, r.Check.Detail, r.Operations)
	}
}

// ops builds a history from compact lines: each is one operation
// "process f key value invokeSec doneSec outcome [error]", with outcome ok,
// fail, info or - (never completed).
func ops(t *testing.T, lines ...string) []history.Op {
	t.Helper()
	var out []history.Op
	for _, l := range lines {
		var p, f, key, v, res, errText string
		var inv, done float64
		n, _ := fmtSscan(l, &p, &f, &key, &v, &inv, &done, &res, &errText)
		if n < 7 {
			t.Fatalf("bad line %q", l)
		}
		proc := int(p[0] - '0')
		in := history.Op{Index: int64(len(out)), Process: proc, Type: history.Invoke, F: history.Func(f), Key: key, Value: v, Time: sec(inv)}
		if f == "cas" {
			in.From = "x"
		}
		out = append(out, in)
		if res != "-" {
			c := in
			c.Index, c.Type, c.Time, c.Error = int64(len(out)), history.Type(res), sec(done), strings.ReplaceAll(errText, "_", " ")
			out = append(out, c)
		}
	}
	return out
}

// TestServedAndOutage pins the one definition of served and of the outage:
// served = ok or 412; a CAS refused with 503 (or any other failure) and an
// indeterminate write count towards the outage.
func TestServedAndOutage(t *testing.T) {
	fault := []history.Fault{{ID: 0, Kind: "kill", Target: "primary", Requested: sec(10), FirstEffective: sec(10), Effective: sec(10), Healed: sec(11)}}
	for _, tc := range []struct {
		name  string
		lines []string
		avail float64 // whole-run availability
		rto   float64 // seconds
	}{
		{"412 is served and no outage", []string{
			"0 write k v0 9.5 9.6 ok", "1 cas k v1 10.1 10.2 fail precondition_failed", "0 write k v2 10.3 10.4 ok",
			"0 write k v3 11.5 11.6 ok",
		}, 1, 0},
		{"503 CAS is part of the outage", []string{
			"0 write k v0 9.5 9.6 ok", "1 cas k v1 10.1 10.2 fail not_primary", "0 write k v2 10.3 10.4 ok",
			"0 write k v3 11.5 11.6 ok",
		}, 0.75, 0.4},
		{"indeterminate write is part of the outage", []string{
			"0 write k v0 9.5 9.6 ok", "1 write k v1 10.1 10.2 info timeout", "0 write k v2 10.3 10.4 ok",
			"0 write k v3 11.5 11.6 ok",
		}, 0.75, 0.4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Ops: ops(t, tc.lines...), Faults: fault, End: sec(12)}
			a := Availability(in, nil)
			r := RTO(in, nil, Options{})
			if value(a.Check.Value) != tc.avail || len(r.Faults) != 1 || r.Faults[0].RTO != time.Duration(sec(tc.rto)) {
				t.Errorf("availability %v, RTO %+v; want %v, %vs", value(a.Check.Value), r.Faults, tc.avail, tc.rto)
			}
		})
	}
}

// TestRTOCountsFromFirstEffect: t_f is when the fault took effect on its
// first node, not when it was requested, and the request-to-effect latency
// is reported per fault.
func TestRTOCountsFromFirstEffect(t *testing.T) {
	events := []history.FaultEvent{
		{Fault: 0, Type: history.FaultRequested, Kind: "kill", Target: "primary", Time: sec(10)},
		{Fault: 0, Type: history.FaultEffective, Kind: "kill", Node: "n2", Time: sec(10.5)},
		{Fault: 0, Type: history.FaultEffective, Kind: "kill", Node: "n1", Time: sec(10.3)},
		{Fault: 0, Type: history.FaultHealed, Kind: "kill", Node: "n1", Time: sec(13)},
	}
	in := Input{Faults: history.FoldFaults(events), End: sec(15), Ops: ops(t,
		// Invoked after the request but before the effect: not counted.
		"0 write k v0 10.1 10.2 fail refused",
		"0 write k v1 10.4 10.5 fail refused", "1 write k v2 11 11.1 info timeout",
		"2 write k v3 12 12.3 ok", "2 write k v4 13.5 13.6 ok", "2 write k v5 14.9 15 ok",
	)}
	rep := Run(context.Background(), in, Targets{}, Options{})
	if got := rep.Checks[CheckRTO].PerFault; len(got) != 1 || value(got[0]) != 2 {
		t.Errorf("RTO per fault %v, want [2] (12.3 - 10.3)", values(got))
	}
	f := rep.Faults[0]
	if value(f.FirstEffective) != 10.3 || value(f.EffectLatency) != seconds(sec(10.3)-sec(10)) || value(f.Effective) != 10.5 {
		t.Errorf("fault report: first effective %v, latency %v, effective %v", value(f.FirstEffective), value(f.EffectLatency), value(f.Effective))
	}
}
