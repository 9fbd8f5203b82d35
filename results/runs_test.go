package results_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/fakerun"
)

func TestFindRunsCountsEachRunOnce(t *testing.T) {
	root := fakerun.WriteDrill(t)
	latest := filepath.Join(root, "kill-primary", results.LatestLink)
	runs, err := results.FindRuns(root, latest, filepath.Join(root, "kill-primary"))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 13 {
		t.Errorf("found %d runs, want 13 (latest links and overlapping paths must not double count)", len(runs))
	}
	for i := 1; i < len(runs); i++ {
		if runs[i].Verdict.Started.Before(runs[i-1].Verdict.Started) {
			t.Fatal("runs are not in order of start time")
		}
	}
	only, err := results.FindRuns(latest)
	if err != nil || len(only) != 1 || !strings.HasPrefix(only[0].Dir, latest) {
		t.Errorf("results.FindRuns(latest link) = %d runs, %v; want the one run, named through the link", len(only), err)
	}
	if _, err := results.FindRuns(t.TempDir()); !errors.Is(err, results.ErrNoRuns) {
		t.Errorf("empty folder: err = %v, want results.ErrNoRuns", err)
	}
	if _, err := results.FindRuns(filepath.Join(root, "nope")); err == nil {
		t.Error("a missing folder is not an error")
	}
	if got := results.RunsSince(runs, fakerun.T0.Add(50*24*time.Hour)); len(got) != 2 { // days 56 and 63
		t.Errorf("RunsSince kept %d runs, want 2", len(got))
	}
}

// storedRun is a run folder kept under testdata, as `hadrill run` wrote it.
const storedRun = "testdata/kill-primary/20261121T100000Z"

// TestFindRunsCountsCopiesOfARunOnce: the same run (one run_id) copied
// into a results folder and into an archive beside it is one run, not two.
func TestFindRunsCountsCopiesOfARunOnce(t *testing.T) {
	root := t.TempDir()
	for _, dst := range []string{"results/kill-primary/20261121T100000Z", "archive/2026-11/kill-primary/20261121T100000Z"} {
		if err := os.CopyFS(filepath.Join(root, dst), os.DirFS(storedRun)); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := results.FindRuns(filepath.Join(root, "results"), filepath.Join(root, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("found %d runs in two copies of one run folder, want 1", len(runs))
	}
	if want := filepath.Join(root, "results/kill-primary/20261121T100000Z"); runs[0].Dir != want || runs[0].RunID == "" {
		t.Errorf("kept %s (run_id %q), want the first in order, %s", runs[0].Dir, runs[0].RunID, want)
	}
}
