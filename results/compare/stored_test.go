package compare

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/results"
)

// storedSide reads one side of a comparison from run folders kept under
// testdata: kill-primary runs as `hadrill run` wrote them, three in the
// baseline and two in each candidate (too few for the rank test to call a
// pass rate's drop significant, so that only the rules decide).
func storedSide(t *testing.T, name string, n int) []results.Run {
	t.Helper()
	runs, err := results.FindRuns("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != n {
		t.Fatalf("testdata/%s holds %d runs, want %d", name, len(runs), n)
	}
	return runs
}

// metricNamed finds a scenario's row by name.
func metricNamed(t *testing.T, sc Scenario, name string) Metric {
	t.Helper()
	for _, m := range sc.Metrics {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no row %q", name)
	return Metric{}
}

// TestCompareStoredRuns: against a baseline whose every check passed, a
// candidate whose linearizability could not be decided in any run, and a
// candidate whose drills were aborted (their checks passing on what they
// recorded), are both regressions, and the table says why; the baseline
// against itself is not.
func TestCompareStoredRuns(t *testing.T) {
	base := storedSide(t, "baseline", 3)
	for _, c := range []struct {
		candidate   string
		n           int
		row, reason string
	}{
		{"baseline", 3, "", ""},
		{"uncheckable", 2, "check linearizability pass rate", "unknown in 2 of 2 candidate runs, 0 of 3 baseline runs"},
		{"aborted", 2, verdictMetric, "passes in every baseline run, fails in 2 of 2 candidate runs"},
	} {
		t.Run(c.candidate, func(t *testing.T) {
			cmp, err := Runs(base, storedSide(t, c.candidate, c.n), defaultCompare)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := cmp.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if c.row == "" {
				if cmp.Regression {
					t.Errorf("a regression against itself:\n%s", b.String())
				}
				return
			}
			m := metricNamed(t, cmp.Scenarios[0], c.row)
			if !cmp.Regression || !m.Regression || !strings.Contains(m.Reason, c.reason) {
				t.Errorf("%s: regression %v (%q), want one saying %q:\n%s", c.row, m.Regression, m.Reason, c.reason, b.String())
			}
			if want := "regression: " + c.row + ": " + c.reason; !strings.Contains(b.String(), want) {
				t.Errorf("the table does not say why (%q):\n%s", want, b.String())
			}
		})
	}
}

// TestCompareUnknownInBothIsNotARegression: a check the baseline could not
// decide either (unknown in every run on both sides) is no regression, and
// neither is a candidate with a smaller share of unknowns.
func TestCompareUnknownInBothIsNotARegression(t *testing.T) {
	unc := storedSide(t, "uncheckable", 2)
	for _, c := range []struct {
		name       string
		base, cand []results.Run
	}{
		{"unknown on both sides", unc, unc},
		{"fewer unknowns in the candidate", unc, storedSide(t, "baseline", 3)},
	} {
		cmp, err := Runs(c.base, c.cand, defaultCompare)
		if err != nil {
			t.Fatal(err)
		}
		if m := metricNamed(t, cmp.Scenarios[0], "check linearizability pass rate"); m.Regression {
			t.Errorf("%s: regression (%s)", c.name, m.Reason)
		}
	}
}
