package compare

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/checker"
)

// TestCompareUnknownIsNotZero: 4 baseline runs lost nothing; of the 2
// candidate runs one lost 47 writes and one has an unknown RPO (no final
// read, so its check holds the 0 writes known lost). The unknown run is
// left out and said to be, and the candidate's median is 47, never 0.
func TestCompareUnknownIsNotZero(t *testing.T) {
	base := synthRuns("kill-primary", 4, 2, 0.2, func(int) float64 { return 0 }, 1)
	cand := synthRuns("kill-primary-async", 2, 2, 0.2, func(i int) float64 { return 47 * float64(1-i) }, 2)
	rpo := cand[1].Verdict.Checks[checker.CheckRPO]
	rpo.Result, rpo.Detail = checker.Unknown, "no final read"
	cand[1].Verdict.Checks[checker.CheckRPO] = rpo
	cmp, err := Runs(base, cand, defaultCompare)
	if err != nil {
		t.Fatal(err)
	}
	var lost Metric
	for _, m := range cmp.Scenarios[0].Metrics {
		if m.Name == "lost writes (RPO)" {
			lost = m
		}
	}
	if lost.CandCenter != 47 || lost.NCand != 1 || lost.CandUnknown != 1 || lost.BaseCenter != 0 {
		t.Errorf("lost writes: candidate center %v over %d runs, %d unknown; baseline %v", lost.CandCenter, lost.NCand, lost.CandUnknown, lost.BaseCenter)
	}
	var b bytes.Buffer
	if err := cmp.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "4/1 (left out: 0/1 unknown)") {
		t.Errorf("the output does not say what was left out:\n%s", b.String())
	}
}

// TestCompareUnboundedIsLeftOutButCounts: an unbounded RTO is left out of
// the median, and a candidate with more unbounded runs is a regression.
func TestCompareUnboundedIsLeftOutButCounts(t *testing.T) {
	base := synthRuns("kill-primary", 6, 2, 0.2, nil, 1)
	cand := synthRuns("kill-primary", 6, 2, 0.2, nil, 2)
	rto := cand[0].Verdict.Checks[checker.CheckRTO]
	rto.Value, rto.Unbounded = nil, true
	cand[0].Verdict.Checks[checker.CheckRTO] = rto
	cmp, err := Runs(base, cand, defaultCompare)
	if err != nil {
		t.Fatal(err)
	}
	m := cmp.Scenarios[0].Metrics[0]
	if m.NCand != 5 || m.CandUnbounded != 1 || !m.Regression || !strings.Contains(m.Reason, "unbounded in 1 of 6 candidate runs") {
		t.Errorf("RTO: %d candidate values, %d unbounded, regression %v (%s)", m.NCand, m.CandUnbounded, m.Regression, m.Reason)
	}
}
