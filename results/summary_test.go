package results_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/fakerun"
)

func TestWriteSummaryFitsAComment(t *testing.T) {
	r := fakerun.Default(fakerun.T0)
	r.Lost = 3
	r.Checks = map[string]checker.Check{checker.CheckLinearizability: {Result: checker.Fail,
		Detail: strings.Repeat("key k1 | read saw a value never written; ", 20)}}
	dir := r.Write(t, t.TempDir())
	// A long schedule must not make the summary long.
	v, err := results.ReadVerdict(dir.Path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 30; i++ {
		v.Faults = append(v.Faults, results.FaultRecord{ID: i, Kind: "pause", Target: fmt.Sprintf("n%d", i%3+1), Requested: float64(i)})
	}
	if err := results.WriteVerdict(dir, v); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteSummary(dir); err != nil {
		t.Fatal(err)
	}
	md := fakerun.ReadFile(t, dir.File(results.SummaryFile))
	lines := strings.Split(strings.TrimSpace(md), "\n")
	if len(lines) > 40 {
		t.Errorf("summary.md has %d lines, want at most 40:\n%s", len(lines), md)
	}
	if !strings.HasPrefix(lines[0], "### hadrill `kill-primary`: FAIL") {
		t.Errorf("header line is %q", lines[0])
	}
	for _, want := range []string{"| rpo | fail | 3 writes | 0 writes |", "| linearizability | fail |",
		"| availability | pass | 0.9500 | 0.9000 |", "- kill primary (n1) at 10.000 s", "and 22 more", "Full report: `"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "k1 | read") {
		t.Error("a | in a detail was not escaped")
	}
	for _, r := range md {
		if r >= 0x1F300 {
			t.Errorf("summary.md has an emoji %q", r)
		}
	}
}

// TestSummaryListsEveryOutage shows a fault's second, longer outage (a
// member that deposes the leader when it rejoins) beside its RTO, so the
// worst outage is never invisible in the summary.
func TestSummaryListsEveryOutage(t *testing.T) {
	dir := fakerun.Default(fakerun.T0).Write(t, t.TempDir())
	v, err := results.ReadVerdict(dir.Path)
	if err != nil {
		t.Fatal(err)
	}
	l1, l2, e1, e2 := 0.76, 2.36, 10.76, 22.56
	v.Faults[0].RTO = &l2
	v.Faults[0].Outages = []checker.OutageRecord{
		{Start: 10, End: &e1, Length: &l1, Cause: checker.CauseEffect},
		{Start: 20.2, End: &e2, Length: &l2, Cause: checker.CauseHeal},
	}
	if err := results.WriteVerdict(dir, v); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteSummary(dir); err != nil {
		t.Fatal(err)
	}
	md := fakerun.ReadFile(t, dir.File(results.SummaryFile))
	want := "RTO 2.360 s (outages: 0.76 s at the effect from 10.00 s; 2.36 s after the heal from 20.20 s)"
	if !strings.Contains(md, want) {
		t.Errorf("summary.md lacks %q:\n%s", want, md)
	}
}
