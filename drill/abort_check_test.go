package drill

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/scenarios"
)

// writeAbortedRun writes the folder of a run that an abort condition
// stopped: every write before the kill served, a kill of every node, and a
// later fault that was skipped.
func writeAbortedRun(t *testing.T, abort *results.Abort) string {
	t.Helper()
	var ops []history.Op
	for i := range 30 {
		at := int64(i) * int64(100*time.Millisecond)
		value := "v" + string(rune('a'+i%26))
		ops = append(ops, history.Op{Index: int64(2 * i), Process: 0, Type: history.Invoke, F: history.Write, Key: "k", Value: value, Time: at},
			history.Op{Index: int64(2*i + 1), Process: 0, Type: history.OK, F: history.Write, Key: "k", Value: value, Time: at + 1e6, Node: "n1"})
	}
	sec := func(s float64) int64 { return int64(s * float64(time.Second)) }
	events := []history.FaultEvent{
		{Fault: 0, Type: history.FaultScheduled, Kind: "kill", Target: "all", At: sec(3)},
		{Fault: 1, Type: history.FaultScheduled, Kind: "kill", Target: "n1", At: sec(20)},
		{Fault: 0, Type: history.FaultRequested, Kind: "kill", Target: "all", At: sec(3), Time: sec(3)},
		{Fault: 0, Type: history.FaultEffective, Kind: "kill", Target: "all", Node: "n1", At: sec(3), Time: sec(3.1)},
		{Fault: 1, Type: history.FaultSkipped, Kind: "kill", Target: "n1", At: sec(20), Time: sec(13.2), Reason: "the drill aborted: no_primary"},
		{Fault: 0, Type: history.FaultHealed, Kind: "kill", Target: "all", Node: "n1", At: sec(3), Time: sec(14)},
	}
	now := time.Now()
	return storedRun(t, ops, events, results.Meta{RunID: "t", Started: now, LoadStart: now, LoadEnd: sec(13.2), End: sec(20), Finished: now, Abort: abort})
}

// TestCheckOfAnAbortedRunSaysAbortedEverywhere re-checks a stored aborted
// run: the verdict is aborted, verdict.json says which condition and when,
// and JUnit, the summary and the report name the condition.
func TestCheckOfAnAbortedRunSaysAbortedEverywhere(t *testing.T) {
	abort := &results.Abort{Condition: scenarios.ConditionNoPrimary, At: 13.2,
		Time: time.Date(2026, 12, 1, 10, 0, 13, 0, time.UTC), Detail: "no node claimed primary for 10s (none since 3.20 s)"}
	dir := writeAbortedRun(t, abort)
	v, err := CheckRun(t.Context(), dir, CheckOptions{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if v.Verdict != results.Aborted {
		t.Fatalf("verdict %q, want aborted", v.Verdict)
	}
	saved, err := results.ReadVerdict(dir)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Verdict != results.Aborted || saved.Abort == nil || *saved.Abort != *abort {
		t.Errorf("verdict.json: verdict %q, abort %+v; want aborted with %+v", saved.Verdict, saved.Abort, abort)
	}
	if len(saved.Faults) != 2 || saved.Faults[1].Requested != 0 || saved.Faults[1].Effective != nil {
		t.Errorf("the skipped fault in verdict.json: %+v", saved.Faults)
	}
	rd := results.RunDir{Path: dir}
	for _, f := range []struct{ file, want string }{
		{results.JUnitFile, `<failure message="fail">the drill aborted: no_primary at 13.20 s`},
		{results.SummaryFile, "ABORTED"},
		{results.SummaryFile, "the drill aborted: no_primary at 13.20 s"},
		{results.ReportFile, "the drill aborted: no_primary at 13.20 s"},
	} {
		b, err := os.ReadFile(rd.File(f.file))
		if err != nil || !strings.Contains(string(b), f.want) {
			t.Errorf("%s does not hold %q (%v):\n%s", f.file, f.want, err, b)
		}
	}
}

// TestRunWithoutAbortIsNotAborted: the same folder without an abort
// record passes, so the verdict above comes from the abort alone.
func TestRunWithoutAbortIsNotAborted(t *testing.T) {
	v, err := CheckRun(t.Context(), writeAbortedRun(t, nil), CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Verdict == results.Aborted || v.Abort != nil {
		t.Errorf("verdict %q, abort %+v: aborted without an abort record", v.Verdict, v.Abort)
	}
	if _, ok := v.Checks[CheckAbort]; ok {
		t.Error("an abort check without an abort")
	}
}
