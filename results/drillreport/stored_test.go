package drillreport

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/fakerun"
)

// TestReportCountsCopiesOfARunOnce: a stored run folder copied into the
// results folder and into an archive given alongside is one run of the
// report, not two.
func TestReportCountsCopiesOfARunOnce(t *testing.T) {
	root := t.TempDir()
	stored := "../testdata/kill-primary/20261121T100000Z"
	var paths []string
	for _, side := range []string{"results", "archive"} {
		if err := os.CopyFS(filepath.Join(root, side, "kill-primary", filepath.Base(stored)), os.DirFS(stored)); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Join(root, side))
	}
	runs, err := results.FindRuns(paths...)
	if err != nil {
		t.Fatal(err)
	}
	d := Build(runs, Options{FailuresPerYear: 1, Years: 1})
	if d.Runs != 1 || len(d.Scenarios) != 1 || len(d.Scenarios[0].Runs) != 1 {
		t.Errorf("the report counts %d runs (%d in its scenarios), want 1", d.Runs, len(d.Scenarios[0].Runs))
	}
}

// TestAbortedRunsCountAsFailed: an aborted drill is a failed run in the
// pass rate and among the worst runs, never an unknown one.
func TestAbortedRunsCountAsFailed(t *testing.T) {
	var runs []results.Run
	for i, v := range []checker.Result{checker.Pass, checker.Unknown, results.Aborted} {
		r := fakerun.Default(fakerun.T0.Add(time.Duration(i) * time.Hour))
		r.Result = v
		runs = append(runs, results.Run{Dir: string(v), Verdict: r.Verdict()})
	}
	s := Build(runs, Options{FailuresPerYear: 1, Years: 1}).Scenarios[0]
	if s.Passed != 1 || s.Failed != 1 || s.Unknown != 1 {
		t.Errorf("pass %d, fail %d, unknown %d; want 1 each", s.Passed, s.Failed, s.Unknown)
	}
	if s.Worst[0].Dir != string(results.Aborted) {
		t.Errorf("worst run is %s, want the aborted one", s.Worst[0].Dir)
	}
}
