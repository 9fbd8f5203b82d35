// Package compare says whether a candidate (a new version, a new setting)
// is worse than a baseline, from saved runs of both: per scenario, the
// medians of RTO, lost writes, availability and write latency, the pass
// rate of each check and of the verdict, each with a bootstrap interval
// and a Mann–Whitney U test, and the rules that make a difference a
// regression. It writes the comparison as text, Markdown or HTML.
package compare

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/render"
)

// ErrNothingToCompare is returned when the two sides share no scenario.
var ErrNothingToCompare = errors.New("nothing to compare")

// Options configure a comparison.
type Options struct {
	// Threshold is the smallest relative worsening (0.10 = 10% of the
	// baseline's center) that counts; see metricDef.floor for zero
	// baselines.
	Threshold float64
	// Alpha is the significance level of the rank test, and 1−Alpha the
	// level of the bootstrap interval.
	Alpha float64
	// Resamples and Seed drive the bootstrap; 0 picks 2000 and seed 1.
	Resamples int
	Seed      uint64
}

// tinySample is the per-side count below which the normal approximation
// of the rank test is rough, and the output says so.
const tinySample = 5

// Direction says which way a metric gets worse.
type Direction int

// The two directions. HigherIsWorse is RTO, lost writes and latency;
// LowerIsWorse is availability and pass rates.
const (
	HigherIsWorse Direction = iota
	LowerIsWorse
)

// metricDef is a compared quantity: how to read it from a verdict, which
// way is worse, and its absolute floor, the smallest change that matters
// whatever the baseline (it is the whole threshold when the baseline's
// center is 0, where a relative threshold means nothing).
type metricDef struct {
	name, unit string
	worse      Direction
	floor      float64
	read       func(*results.Verdict) (float64, bool)
	// check is the check the value comes from ("" for latency): a run
	// whose check is unknown has its value left out, and counted.
	check string
}

// comparedMetrics are the measured metrics, compared by their medians.
var comparedMetrics = []metricDef{
	{"RTO (s)", "seconds", HigherIsWorse, 0.1, (*results.Verdict).RTO, checker.CheckRTO},
	{"lost writes (RPO)", "writes", HigherIsWorse, 0.5, (*results.Verdict).LostWrites, checker.CheckRPO},
	{"availability", "ratio", LowerIsWorse, 0.001, (*results.Verdict).Availability, checker.CheckAvailability},
	{"write latency p99 (ms)", "ms", HigherIsWorse, 1, func(v *results.Verdict) (float64, bool) {
		s, ok := v.WriteP99()
		return s * 1000, ok
	}, ""},
}

// Comparison is the outcome of comparing a baseline with a candidate.
type Comparison struct {
	Options   Options
	Scenarios []Scenario
	// Unmatched names scenarios found on one side only.
	Unmatched  []string
	Regression bool
}

// Scenario compares one scenario's runs on both sides.
type Scenario struct {
	Baseline, Candidate string
	BaseRuns, CandRuns  int
	Metrics             []Metric
	Regression          bool
}

// Metric is one metric (or one check's pass rate) compared. For
// measured metrics Center is the median; for pass rates, the share of runs
// that passed.
type Metric struct {
	Name, Unit             string
	Worse                  Direction
	PassRate               bool
	NBase, NCand           int
	BaseCenter, CandCenter float64
	// Diff is CandCenter − BaseCenter, CILow..CIHigh its bootstrap
	// interval at 1−Alpha.
	Diff, CILow, CIHigh float64
	// U and P are the Mann–Whitney U statistic (for the candidate) and
	// its two-sided p-value; NaN when a side has no values.
	U, P float64
	// Effect is the worsening that counts: max(Threshold×|BaseCenter|,
	// floor).
	Effect float64
	Tiny   bool
	// Unknown and Unbounded count, per side, the runs whose value was left
	// out of the center, the interval and the test: unknown (the check
	// could not measure it) or unbounded (an RTO that never ended). For a
	// pass rate, Unknown counts the runs whose outcome was unknown; they
	// are not left out but count as not passing.
	BaseUnknown, CandUnknown     int
	BaseUnbounded, CandUnbounded int
	Regression                   bool
	Reason                       string
}

// Runs compares baseline and candidate runs scenario by scenario. When
// each side holds a single scenario they are compared even if their names
// differ (a renamed scenario, or one scenario run against two systems).
func Runs(baseline, candidate []results.Run, opt Options) (*Comparison, error) {
	if opt.Resamples <= 0 {
		opt.Resamples = 2000
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	bNames, bBy := results.GroupByScenario(baseline)
	cNames, cBy := results.GroupByScenario(candidate)
	c := &Comparison{Options: opt}
	pair := func(b, cand string) {
		sc := compareScenario(b, cand, bBy[b], cBy[cand], opt)
		c.Scenarios = append(c.Scenarios, sc)
		c.Regression = c.Regression || sc.Regression
	}
	if len(bNames) == 1 && len(cNames) == 1 {
		pair(bNames[0], cNames[0])
		return c, nil
	}
	for _, n := range bNames {
		if _, ok := cBy[n]; ok {
			pair(n, n)
		} else {
			c.Unmatched = append(c.Unmatched, "baseline only: "+n)
		}
	}
	for _, n := range cNames {
		if _, ok := bBy[n]; !ok {
			c.Unmatched = append(c.Unmatched, "candidate only: "+n)
		}
	}
	if len(c.Scenarios) == 0 {
		return nil, fmt.Errorf("%w: the baseline has %v, the candidate %v", ErrNothingToCompare, bNames, cNames)
	}
	return c, nil
}

// compareScenario compares the metrics, then each check's pass rate, then
// the verdicts'.
func compareScenario(bName, cName string, base, cand []results.Run, opt Options) Scenario {
	sc := Scenario{Baseline: bName, Candidate: cName, BaseRuns: len(base), CandRuns: len(cand)}
	for _, m := range comparedMetrics {
		x, y := readAll(base, m), readAll(cand, m)
		mc := compareSamples(m.name, m.unit, m.worse, m.floor, x.values, y.values, medianOf, opt, rngFor(opt.Seed, cName, m.name))
		mc.BaseUnknown, mc.CandUnknown, mc.BaseUnbounded, mc.CandUnbounded = x.unknown, y.unknown, x.unbounded, y.unbounded
		moreUnbounded(&mc, len(base), len(cand))
		sc.Metrics = append(sc.Metrics, mc)
	}
	for _, check := range checkUnion(base, cand) {
		sc.Metrics = append(sc.Metrics, compareOutcomes("check "+check+" pass rate",
			checkOutcomes(base, check), checkOutcomes(cand, check), opt, rngFor(opt.Seed, cName, "check "+check)))
	}
	sc.Metrics = append(sc.Metrics, compareOutcomes(verdictMetric,
		verdictOutcomes(base), verdictOutcomes(cand), opt, rngFor(opt.Seed, cName, verdictMetric)))
	for _, m := range sc.Metrics {
		sc.Regression = sc.Regression || m.Regression
	}
	return sc
}

// compareSamples applies the regression rule to one metric: the candidate
// is worse by more than the effect threshold, and the rank test finds the
// difference significant (p < Alpha). Both are needed: a large but noisy
// shift is not evidence, and a significant but tiny one does not matter.
func compareSamples(name, unit string, worse Direction, floor float64, x, y []float64,
	center func([]float64) float64, opt Options, rng *rand.Rand) Metric {
	m := Metric{Name: name, Unit: unit, Worse: worse, NBase: len(x), NCand: len(y),
		BaseCenter: math.NaN(), CandCenter: math.NaN(), Diff: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN(),
		U: math.NaN(), P: math.NaN()}
	if len(x) == 0 || len(y) == 0 {
		m.Reason = "not measured on both sides"
		return m
	}
	m.BaseCenter, m.CandCenter = center(slices.Clone(x)), center(slices.Clone(y))
	m.Diff = difference(m.CandCenter, m.BaseCenter)
	m.CILow, m.CIHigh = bootstrapCI(x, y, center, opt.Resamples, opt.Alpha, rng)
	m.U, m.P = mannWhitneyU(y, x)
	m.Tiny = len(x) < tinySample || len(y) < tinySample
	m.Effect = math.Max(opt.Threshold*math.Abs(m.BaseCenter), floor)
	worsening := m.Diff
	if worse == LowerIsWorse {
		worsening = -m.Diff
	}
	if worsening > m.Effect && m.P < opt.Alpha {
		m.Regression = true
		m.Reason = fmt.Sprintf("worse by %s (threshold %.4g), p = %.3g < %g",
			render.FormatValue(math.Abs(m.Diff), unit), m.Effect, m.P, opt.Alpha)
	}
	return m
}

// rngFor gives each compared metric its own stream, so that its interval
// depends on the seed and on nothing else (not on which metrics came
// before it).
func rngFor(seed uint64, scenario, metric string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(scenario + "\x00" + metric))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// readings are one side's values of a metric, and the runs left out.
type readings struct {
	values             []float64
	unknown, unbounded int
}

// readAll reads a metric from every run. Unknown values (the check could
// not measure) and unbounded ones (+Inf) are left out of values and
// counted, so that neither can pass for a number: an unknown RPO is not 0
// lost writes.
func readAll(runs []results.Run, m metricDef) readings {
	var out readings
	for _, r := range runs {
		v, ok := m.read(r.Verdict)
		switch {
		case ok && math.IsInf(v, 0):
			out.unbounded++
		case ok:
			out.values = append(out.values, v)
		case m.check != "" && r.Verdict.CheckUnknown(m.check):
			out.unknown++
		}
	}
	return out
}

// moreUnbounded makes a metric a regression when a larger share of the
// candidate's runs is unbounded than of the baseline's: unbounded values
// are left out of the medians, and must not make the candidate look
// better by their absence.
func moreUnbounded(m *Metric, nBase, nCand int) {
	if m.CandUnbounded == 0 || nBase == 0 || nCand == 0 {
		return
	}
	if float64(m.CandUnbounded)/float64(nCand) > float64(m.BaseUnbounded)/float64(nBase) {
		m.Regression = true
		m.Reason = fmt.Sprintf("unbounded in %d of %d candidate runs, %d of %d baseline runs",
			m.CandUnbounded, nCand, m.BaseUnbounded, nBase)
	}
}
