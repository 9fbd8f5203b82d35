package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// storedRuns holds run folders as `hadrill run` wrote them (no Docker
// needed): a baseline of three passing kill-primary runs, and candidates
// whose linearizability could not be decided, or whose drills aborted.
const storedRuns = "../../results/compare/testdata/"

// TestCompareUncheckableCandidateExits1: a candidate that can no longer
// be checked, or whose drills aborted, is a regression (exit 1), not "No
// regression." and exit 0.
func TestCompareUncheckableCandidateExits1(t *testing.T) {
	f := compareFlags{threshold: "10%", alpha: 0.05, seed: 1}
	for cand, want := range map[string]int{"baseline": exitOK, "uncheckable": exitFailed, "aborted": exitFailed} {
		var out bytes.Buffer
		err := compareRuns(&out, io.Discard, storedRuns+"baseline", storedRuns+cand, f)
		if code := codeOf(err); code != want {
			t.Errorf("compare baseline %s: exit %d (%v), want %d\n%s", cand, code, err, want, out.String())
		}
	}
}

// TestReportCountsCopiesOnce: two copies of one stored run folder (one
// run_id) make a report of one run.
func TestReportCountsCopiesOnce(t *testing.T) {
	root := t.TempDir()
	stored := "../../results/testdata/kill-primary/20261121T100000Z"
	for _, side := range []string{"a", "b"} {
		if err := os.CopyFS(filepath.Join(root, side, "kill-primary", filepath.Base(stored)), os.DirFS(stored)); err != nil {
			t.Fatal(err)
		}
	}
	var out, errs bytes.Buffer
	f := reportFlags{out: filepath.Join(root, "drill.md"), failuresPerYear: 1, years: 1, seed: 1}
	if err := drillReport(&out, &errs, []string{root}, f); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errs.String(), "1 runs found") || !strings.Contains(out.String(), "kill-primary: 1 runs") {
		t.Errorf("report of two copies of one run:\n%s%s", errs.String(), out.String())
	}
}
