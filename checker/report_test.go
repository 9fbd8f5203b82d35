package checker

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestRunCleanOutage runs every check on the clean-outage history and pins
// the verdict.json "checks" object it produces.
func TestRunCleanOutage(t *testing.T) {
	in := load(t, "rto-clean")
	in.End = sec(15)
	targets := Targets{Linearizable: true, RTO: dur(5 * time.Second), RPO: num(0), RPOWindow: dur(0), Availability: f64(0.5)}
	r := Run(context.Background(), in, targets, Options{})
	if r.Verdict != Pass {
		t.Errorf("verdict %q, want pass: %+v", r.Verdict, r.Checks)
	}
	if want := (OpCounts{Total: 15, OK: 10, Fail: 4, Info: 1}); r.Ops != want {
		t.Errorf("ops %+v, want %+v", r.Ops, want)
	}
	got, err := json.Marshal(r.Checks)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"availability":{"result":"pass","value":0.6666666666666666,"target":0.5,"unit":"ratio","per_fault":[0.375]},` +
		`"faults":{"result":"pass"},` +
		`"linearizability":{"result":"pass"},` +
		`"rpo":{"result":"pass","value":0,"target":0,"unit":"writes","window_seconds":0,"window_target_seconds":0},` +
		`"rto":{"result":"pass","value":2.5,"target":5,"unit":"seconds","per_fault":[2.5],` +
		`"outages":[[{"start":10,"end":12.5,"length":2.5,"first_failed":10.1,"cause":"effect"}]]}}`
	if string(got) != want {
		t.Errorf("checks:\n got %s\nwant %s", got, want)
	}
	f := r.Faults[0]
	if f.Kind != "kill" || f.Requested != 10 || value(f.Effective) != 10 || value(f.EffectLatency) != 0 || value(f.Healed) != 13 ||
		!f.Disruptive || value(f.RTO) != 2.5 || value(f.Availability) != 0.375 || f.OK != 3 || f.Total != 8 {
		t.Errorf("fault report %+v", f)
	}
}

// TestRunEmpty checks that an empty history does not crash anything and
// gives the documented answers: nothing to linearize (unknown), nothing to
// lose (pass), no fault to recover from (pass, no value), availability
// undefined (unknown), so the verdict is unknown: a run that recorded
// nothing proves nothing.
func TestRunEmpty(t *testing.T) {
	targets := Targets{Linearizable: true, RTO: dur(5 * time.Second), RPO: num(0), RPOWindow: dur(0), Availability: f64(0.9)}
	r := Run(context.Background(), load(t, "empty"), targets, Options{})
	want := map[string]Result{CheckLinearizability: Unknown, CheckRTO: Pass, CheckRPO: Pass, CheckAvailability: Unknown}
	for name, res := range want {
		if r.Checks[name].Result != res {
			t.Errorf("%s = %q (%s), want %q", name, r.Checks[name].Result, r.Checks[name].Detail, res)
		}
	}
	if r.Verdict != Unknown || r.Ops != (OpCounts{}) || r.Checks[CheckRTO].Value != nil || r.Checks[CheckAvailability].Value != nil {
		t.Errorf("verdict %q ops %+v checks %+v", r.Verdict, r.Ops, r.Checks)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("marshal report: %v", err)
	}
}

// TestRunLostWrites checks that lost ledger writes fail both RPO and
// linearizability, and that the failure can be visualized.
func TestRunLostWrites(t *testing.T) {
	targets := Targets{Linearizable: true, RPO: num(0)}
	r := Run(context.Background(), load(t, "rpo-lost"), targets, Options{})
	if r.Verdict != Fail || r.Checks[CheckRPO].Result != Fail || r.Checks[CheckLinearizability].Result != Fail || len(r.LostWrites) != 5 {
		t.Errorf("verdict %q checks %+v lost %d", r.Verdict, r.Checks, len(r.LostWrites))
	}
	if want := (OpCounts{Total: 9, OK: 7, Fail: 1, Info: 1, FinalReads: 9}); r.Ops != want {
		t.Errorf("ops %+v, want %+v", r.Ops, want)
	}
	var buf bytes.Buffer
	if err := r.Linearization.WriteVisualization(&buf); err != nil || buf.Len() == 0 {
		t.Errorf("visualization: %v (%d bytes)", err, buf.Len())
	}
}

// TestOpCountsOpen checks that an invocation that never completed counts as
// info.
func TestOpCountsOpen(t *testing.T) {
	if got, want := countOps(load(t, "rto-indeterminate").paired()), (OpCounts{Total: 13, OK: 10, Info: 3}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
