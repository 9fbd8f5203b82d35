package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/internal/testsupport"
	"github.com/hadrill/hadrill/results"
)

// TestAbortStopsADrillWhoseClusterIsGone kills every node for good with
// `abort: {no_primary: 10s}` and a second fault scheduled after the abort
// is due. The drill must stop its faults within 15 s of the kill (by the
// run's own timestamps), never inject the second fault, heal the first,
// end aborted with exit 1, and leave nothing of the run behind.
func TestAbortStopsADrillWhoseClusterIsGone(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	root := t.TempDir()
	code, stdout, stderr := hadrill(t, "run", "testdata/abort-all-down.yaml", "--results", root)
	t.Logf("stdout:\n%s", stdout)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d (aborted); stderr:\n%s", code, exitFailed, stderr)
	}
	assertNothingLeft(t, root)
	dir := filepath.Join(root, "abort-all-down", "latest")
	v := readVerdict(t, dir)
	if v.Verdict != "aborted" || v.Abort == nil || v.Abort.Condition != "no_primary" {
		t.Fatalf("verdict %q, abort %+v: want aborted by no_primary", v.Verdict, v.Abort)
	}
	meta, err := results.ReadMeta(dir)
	if err != nil || meta.Abort == nil || *meta.Abort != *v.Abort {
		t.Fatalf("run.json abort %+v (%v), want the verdict's %+v", meta.Abort, err, v.Abort)
	}
	events, _, err := history.ReadFile[history.FaultEvent](filepath.Join(dir, results.FaultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var killed, lastHeal int64
	for _, e := range events {
		switch {
		case e.Fault == 0 && e.Type == history.FaultEffective && killed == 0:
			killed = e.Time
		case e.Fault == 0 && e.Type == history.FaultHealRequested:
			lastHeal = max(lastHeal, e.Time)
		case e.Fault == 1 && e.Type != history.FaultScheduled && e.Type != history.FaultSkipped:
			t.Errorf("the fault after the abort ran: %+v", e)
		case e.Fault == 1 && e.Type == history.FaultSkipped && !strings.Contains(e.Reason, "no_primary"):
			t.Errorf("the later fault was skipped for %q, want the abort named", e.Reason)
		}
	}
	if killed == 0 || lastHeal == 0 {
		t.Fatalf("the kill took effect at %d ns and its heal was requested at %d ns: want both", killed, lastHeal)
	}
	// The drill's own clock: from the kill to the abort, the load's end
	// and the heal, each within the 10 s condition plus 5 s for the role
	// samples (one a second) and for stopping the load.
	const bound = 15 * time.Second
	for what, at := range map[string]int64{
		"the abort":    int64(v.Abort.At * float64(time.Second)),
		"the load end": meta.LoadEnd,
		"the heal":     lastHeal,
	} {
		if d := time.Duration(at - killed); d <= 0 || d > bound {
			t.Errorf("%s came %s after the kill, want within %s", what, d, bound)
		}
	}
	for _, f := range v.Faults {
		switch {
		case f.ID == 0 && (f.Healed == nil || len(f.Errors) > 0):
			t.Errorf("the kill was not healed cleanly: %+v", f)
		case f.ID == 1 && f.Requested != 0:
			t.Errorf("the later fault was requested: %+v", f)
		}
	}
	junit, err := os.ReadFile(filepath.Join(dir, results.JUnitFile))
	if err != nil || !strings.Contains(string(junit), "the drill aborted: no_primary") {
		t.Errorf("junit.xml does not fail naming the condition (%v):\n%s", err, junit)
	}
	if !strings.Contains(stdout, "ABORTED") || !strings.Contains(stdout, "the drill aborted: no_primary") {
		t.Errorf("the summary on stdout does not say ABORTED naming the condition")
	}
}
