package compare

import (
	"fmt"
	"math/rand/v2"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/render"
)

// verdictMetric names the row that compares the runs' verdicts: a verdict
// can fail (or be aborted) by a check the other side never ran, and an
// aborted drill counts there as a failed one.
const verdictMetric = "verdict pass rate"

// compareOutcomes compares pass rates (x for the baseline, y for the
// candidate, one outcome per run) and applies, on top of the statistical
// rule of compareSamples, two rules that need no statistics:
//   - what passes in every baseline run and fails in any candidate run
//     regresses;
//   - what was decided (pass or fail) in the baseline and is unknown in a
//     larger share of candidate runs than of baseline runs regresses: a
//     candidate whose runs can no longer be checked has lost the evidence,
//     and must not pass the gate for it.
func compareOutcomes(name string, x, y []checker.Result, opt Options, rng *rand.Rand) Metric {
	m := compareSamples(name, "ratio", LowerIsWorse, 0, passValues(x), passValues(y), meanOf, opt, rng)
	m.PassRate = true
	m.BaseUnknown, m.CandUnknown = count(x, checker.Unknown), count(y, checker.Unknown)
	baseDecided := len(x) - m.BaseUnknown
	switch failed := count(y, checker.Fail); {
	case len(x) > 0 && m.BaseCenter == 1 && failed > 0:
		m.Regression = true
		m.Reason = fmt.Sprintf("passes in every baseline run, fails in %d of %d candidate runs", failed, len(y))
	case baseDecided > 0 && len(y) > 0 &&
		float64(m.CandUnknown)/float64(len(y)) > float64(m.BaseUnknown)/float64(len(x)):
		m.Regression = true
		m.Reason = fmt.Sprintf("unknown in %d of %d candidate runs, %d of %d baseline runs: "+
			"the candidate could not be checked where the baseline was", m.CandUnknown, len(y), m.BaseUnknown, len(x))
	}
	return m
}

// checkUnion lists the checks present on either side, in the order every
// table lists them.
func checkUnion(sides ...[]results.Run) []string {
	all := map[string]checker.Check{}
	for _, runs := range sides {
		for _, r := range runs {
			for n, c := range r.Verdict.Checks {
				all[n] = c
			}
		}
	}
	return render.CheckNames(all)
}

// checkOutcomes is the check's outcome in each run that has it.
func checkOutcomes(runs []results.Run, check string) []checker.Result {
	var out []checker.Result
	for _, r := range runs {
		if c, ok := r.Verdict.Checks[check]; ok {
			out = append(out, results.Outcome(c.Result))
		}
	}
	return out
}

// verdictOutcomes is each run's verdict, an aborted one as failed.
func verdictOutcomes(runs []results.Run) []checker.Result {
	out := make([]checker.Result, len(runs))
	for i, r := range runs {
		out[i] = results.Outcome(r.Verdict.Verdict)
	}
	return out
}

// passValues is 1 for each pass, 0 for each fail or unknown: the values
// whose mean is the pass rate.
func passValues(rs []checker.Result) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		if r == checker.Pass {
			out[i] = 1
		}
	}
	return out
}

// count counts the outcomes equal to want.
func count(rs []checker.Result, want checker.Result) int {
	n := 0
	for _, r := range rs {
		if r == want {
			n++
		}
	}
	return n
}
