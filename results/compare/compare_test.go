package compare

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/fakerun"
)

func TestMannWhitneyUTextbook(t *testing.T) {
	for _, c := range []struct {
		name string
		x, y []float64
		u, p float64
	}{
		// scipy.stats.mannwhitneyu documentation (after Conover): ages of
		// male and female workers; U1 = 17, asymptotic p = 0.11134688653314041.
		{"scipy docs", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, 17, 0.11134688653314041},
		// Wikipedia's tortoise and hare: finishing order THHHHHTTTTTH gives
		// U = 25 for the tortoises and 11 for the hares; z = 6.5/√39.
		{"tortoises", []float64{1, 7, 8, 9, 10, 11}, []float64{2, 3, 4, 5, 6, 12}, 25, 0.2979530616081678},
		{"hares", []float64{2, 3, 4, 5, 6, 12}, []float64{1, 7, 8, 9, 10, 11}, 11, 0.2979530616081678},
		// Ties, by hand: ranks 1 | 2,2,2 → 3 | 3,3,3,3 → 6.5 | 4,4 → 9.5 | 11 | 12.
		// R_x = 1+3+3+6.5·3 = 26.5, U = 26.5−21 = 5.5; Σ(t³−t) = 24+60+6 = 90;
		// σ² = 36/12·(13 − 90/132) = 36.9545; z = (12.5−0.5)/σ = 1.9740.
		{"ties", []float64{1, 2, 2, 3, 3, 3}, []float64{2, 3, 4, 4, 5, 6}, 5.5, 0.0483816574977987},
		{"all tied", []float64{0, 0, 0}, []float64{0, 0}, 3, 1},
	} {
		u, p := mannWhitneyU(c.x, c.y)
		if u != c.u || math.Abs(p-c.p) > 1e-12 {
			t.Errorf("%s: U=%v p=%.17g, want U=%v p=%.17g", c.name, u, p, c.u, c.p)
		}
	}
	if u, p := mannWhitneyU(nil, []float64{1}); !math.IsNaN(u) || !math.IsNaN(p) {
		t.Errorf("empty side: U=%v p=%v, want NaN", u, p)
	}
}

func TestBootstrapCIIsSeededAndCoversTheShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var x, y []float64
	for range 30 {
		v := rng.NormFloat64()
		x, y = append(x, 10+v), append(y, 12+rng.NormFloat64())
	}
	lo, hi := bootstrapCI(x, y, medianOf, 2000, 0.05, rand.New(rand.NewPCG(1, 2)))
	lo2, hi2 := bootstrapCI(x, y, medianOf, 2000, 0.05, rand.New(rand.NewPCG(1, 2)))
	if lo != lo2 || hi != hi2 {
		t.Error("same seed, different intervals")
	}
	if !(lo > 0 && lo < 2 && hi > 2 && hi < 4) {
		t.Errorf("CI of a shift of 2 is [%v, %v]", lo, hi)
	}
	if lo, hi := bootstrapCI([]float64{5, 5}, []float64{5}, medianOf, 100, 0.05, rng); lo != 0 || hi != 0 {
		t.Errorf("constant samples: CI [%v, %v], want [0, 0]", lo, hi)
	}
}

// synthRuns makes n runs of a scenario in memory with RTO ~ N(rto, sd).
func synthRuns(scenario string, n int, rto, sd float64, lost func(i int) float64, seed uint64) []results.Run {
	rng := rand.New(rand.NewPCG(seed, 99))
	var runs []results.Run
	for i := range n {
		r := fakerun.Default(fakerun.T0.Add(time.Duration(i) * time.Hour))
		r.Scenario = scenario
		r.RTO = fakerun.F64(math.Max(0, rto+sd*rng.NormFloat64()))
		r.Avail = 0.95 + 0.005*rng.NormFloat64()
		r.P99Write = 0.008 + 0.001*rng.NormFloat64()
		if lost != nil {
			r.Lost = lost(i)
		}
		runs = append(runs, results.Run{Dir: "mem", Verdict: r.Verdict()})
	}
	return runs
}

var defaultCompare = Options{Threshold: 0.10, Alpha: 0.05}

func regressions(c *Comparison) []string {
	var out []string
	for _, sc := range c.Scenarios {
		for _, m := range sc.Metrics {
			if m.Regression {
				out = append(out, m.Name)
			}
		}
	}
	return out
}

func TestCompare(t *testing.T) {
	base := synthRuns("kill-primary", 12, 2.0, 0.2, nil, 1)
	for _, c := range []struct {
		name string
		cand []results.Run
		want []string
	}{
		{"identical sets", base, nil},
		{"tiny RTO shift within noise", synthRuns("kill-primary", 12, 2.02, 0.2, nil, 2), nil},
		{"lost writes where the baseline had none",
			synthRuns("kill-primary", 12, 2.0, 0.2, func(i int) float64 { return float64(1 + i%5) }, 3),
			[]string{"lost writes (RPO)", "check rpo pass rate", verdictMetric}},
		{"RTO up by half", synthRuns("kill-primary", 12, 3.0, 0.2, nil, 4), []string{"RTO (s)"}},
		{"renamed scenario, same behaviour", synthRuns("kill-primary-v2", 12, 2.0, 0.2, nil, 5), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmp, err := Runs(base, c.cand, defaultCompare)
			if err != nil {
				t.Fatal(err)
			}
			got := regressions(cmp)
			if strings.Join(got, ",") != strings.Join(c.want, ",") || cmp.Regression != (len(c.want) > 0) {
				var b bytes.Buffer
				cmp.WriteText(&b)
				t.Errorf("regressions %v (flag %v), want %v\n%s", got, cmp.Regression, c.want, b.String())
			}
		})
	}
}

func TestCompareIdenticalSetsHaveNoDifference(t *testing.T) {
	base := synthRuns("s", 8, 2, 0.3, nil, 1)
	cmp, err := Runs(base, base, defaultCompare)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cmp.Scenarios[0].Metrics {
		if m.Diff != 0 || m.P != 1 {
			t.Errorf("%s: diff %v p %v on identical sets, want 0 and 1", m.Name, m.Diff, m.P)
		}
	}
}

func TestCompareCheckFailingOnlyInCandidateIsARegression(t *testing.T) {
	base := synthRuns("s", 1, 2, 0, nil, 1)
	cand := synthRuns("s", 1, 2, 0, nil, 1)
	c := cand[0].Verdict.Checks[checker.CheckLinearizability]
	c.Result = checker.Fail
	cand[0].Verdict.Checks[checker.CheckLinearizability] = c
	cmp, err := Runs(base, cand, defaultCompare)
	if err != nil {
		t.Fatal(err)
	}
	if got := regressions(cmp); len(got) != 1 || got[0] != "check linearizability pass rate" {
		t.Errorf("regressions %v, want the linearizability check alone (one run a side)", got)
	}
}

func TestCompareMatchesScenariosByName(t *testing.T) {
	base := append(synthRuns("a", 3, 2, 0.1, nil, 1), synthRuns("b", 3, 2, 0.1, nil, 2)...)
	cand := append(synthRuns("a", 3, 2, 0.1, nil, 3), synthRuns("c", 3, 2, 0.1, nil, 4)...)
	cmp, err := Runs(base, cand, defaultCompare)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Scenarios) != 1 || cmp.Scenarios[0].Baseline != "a" {
		t.Errorf("compared %+v, want only a", cmp.Scenarios)
	}
	if strings.Join(cmp.Unmatched, ";") != "baseline only: b;candidate only: c" {
		t.Errorf("unmatched %v", cmp.Unmatched)
	}
	if !cmp.Scenarios[0].Metrics[0].Tiny {
		t.Error("3 runs a side is not marked as a tiny sample")
	}
	_, err = Runs(synthRuns("a", 2, 2, 0, nil, 1)[:1], append(synthRuns("b", 1, 2, 0, nil, 1), synthRuns("c", 1, 2, 0, nil, 1)...), defaultCompare)
	if !errors.Is(err, ErrNothingToCompare) {
		t.Errorf("no common scenario: err = %v, want ErrNothingToCompare", err)
	}
}

func TestCompareOutputs(t *testing.T) {
	base := synthRuns("kill-primary", 6, 2, 0.2, nil, 1)
	cand := synthRuns("kill-primary", 6, 2, 0.2, func(int) float64 { return 3 }, 2)
	cmp, err := Runs(base, cand, defaultCompare)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := cmp.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{"metric", "95% CI", "lost writes (RPO)", "REGRESSION", "regression: lost writes (RPO): worse by 3"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"cmp.md", "cmp.html"} {
		path := filepath.Join(dir, name)
		if err := cmp.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		out := fakerun.ReadFile(t, path)
		if !strings.Contains(out, "REGRESSION") || !strings.Contains(out, "Mann–Whitney") {
			t.Errorf("%s lacks the verdict or the method:\n%s", name, out)
		}
		if isHTML := strings.Contains(out, "<table"); isHTML != (name == "cmp.html") {
			t.Errorf("%s: HTML table present = %v", name, isHTML)
		}
	}
}
