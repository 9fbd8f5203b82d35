// Package drillreport turns many saved runs into a drill report: per
// scenario, its pass rate, RTO, lost writes and availability over time,
// a trend plot and the runs worth opening first, and a Monte Carlo
// projection of yearly downtime and data loss built on those runs. The
// report is HTML (plots inline) or Markdown; it reads only run folders.
package drillreport

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
)

// Options configure a drill report.
type Options struct {
	// FailuresPerYear is the rate of real failures of each drilled kind
	// that the projection assumes, and Years its horizon.
	FailuresPerYear float64
	Years           float64
	// Simulations and Seed drive the Monte Carlo; 0 picks
	// DefaultSimulations and seed 1, so that a report is reproducible.
	Simulations int
	Seed        uint64
	// Since, when set, is stated in the report (FindRuns' caller filters).
	Since time.Time
}

// maxWorstRuns bounds the "worst runs" list of each scenario.
const maxWorstRuns = 5

// Report is the drill report over many runs: one Scenario per scenario.
type Report struct {
	Options   Options
	Runs      int
	From, To  time.Time
	Scenarios []Scenario
}

// Scenario is one scenario's record over its runs.
type Scenario struct {
	Scenario string
	// Runs are in order of start time.
	Runs                    []results.Run
	Passed, Failed, Unknown int
	// RTO p50 and p95 over the runs with a bounded RTO (RTORuns of them);
	// the Unbounded runs are left out of those, and make Max +Inf.
	RTORuns, Unbounded int
	// RTOUnknown and RPOUnknown count runs whose check was unknown: left
	// out of every statistic, and said so.
	RTOUnknown, RPOUnknown int
	RTOP50, RTOP95, RTOMax float64
	// Lost writes over the runs that measured RPO.
	RPORuns               int
	LostTotal, LostMax    float64
	RunsWithLoss          int
	AvailRuns             int
	AvailMedian, AvailMin float64
	Worst                 []results.Run
	Projection            Projection
}

// PassRate is the share of runs whose verdict was pass.
func (s Scenario) PassRate() float64 {
	return float64(s.Passed) / float64(max(len(s.Runs), 1))
}

// Build aggregates runs (see FindRuns) by scenario and projects each
// scenario's yearly downtime and data loss.
func Build(runs []results.Run, opt Options) Report {
	if opt.Simulations <= 0 {
		opt.Simulations = DefaultSimulations
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	d := Report{Options: opt, Runs: len(runs)}
	if len(runs) > 0 {
		d.From, d.To = runs[0].Verdict.Started, runs[0].Verdict.Started
	}
	for _, r := range runs {
		d.From = minTime(d.From, r.Verdict.Started)
		d.To = maxTime(d.To, r.Verdict.Started)
	}
	names, by := results.GroupByScenario(runs)
	for _, name := range names {
		s := scenarioReport(name, by[name])
		s.Projection = projectRuns(s.Runs, opt.FailuresPerYear, opt.Years, opt.Simulations, opt.Seed)
		d.Scenarios = append(d.Scenarios, s)
	}
	return d
}

// scenarioDrill computes one scenario's statistics.
func scenarioReport(name string, runs []results.Run) Scenario {
	s := Scenario{Scenario: name, Runs: runs}
	var rtos, avail []float64
	for _, r := range runs {
		switch results.Outcome(r.Verdict.Verdict) { // aborted counts as failed
		case checker.Pass:
			s.Passed++
		case checker.Fail:
			s.Failed++
		default:
			s.Unknown++
		}
		switch v, ok := r.Verdict.RTO(); {
		case ok && math.IsInf(v, 1):
			s.Unbounded++ // left out of p50 and p95; it makes the max
			s.RTOMax = v
		case ok:
			rtos = append(rtos, v)
		case r.Verdict.CheckUnknown(checker.CheckRTO):
			s.RTOUnknown++
		}
		if r.Verdict.CheckUnknown(checker.CheckRPO) {
			s.RPOUnknown++
		}
		if n, ok := r.Verdict.LostWrites(); ok {
			s.RPORuns++
			s.LostTotal += n
			s.LostMax = math.Max(s.LostMax, n)
			if n > 0 {
				s.RunsWithLoss++
			}
		}
		if a, ok := r.Verdict.Availability(); ok {
			avail = append(avail, a)
		}
	}
	slices.Sort(rtos)
	s.RTORuns = len(rtos)
	s.RTOP50, s.RTOP95 = checker.Quantile(rtos, 0.5), checker.Quantile(rtos, 0.95)
	if s.Unbounded == 0 {
		s.RTOMax = math.NaN()
		if len(rtos) > 0 {
			s.RTOMax = rtos[len(rtos)-1]
		}
	}
	slices.Sort(avail)
	s.AvailRuns = len(avail)
	s.AvailMedian, s.AvailMin = checker.Quantile(avail, 0.5), math.NaN()
	if len(avail) > 0 {
		s.AvailMin = avail[0]
	}
	s.Worst = worstRuns(runs, maxWorstRuns)
	return s
}

// worstRuns picks the runs a reader should open first: failed before
// unknown before passed (aborted as failed), then the highest RTO, then the
// most lost writes.
func worstRuns(runs []results.Run, n int) []results.Run {
	rank := map[checker.Result]int{checker.Fail: 0, checker.Unknown: 1, checker.Pass: 2}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b results.Run) int {
		if c := cmp.Compare(rank[results.Outcome(a.Verdict.Verdict)], rank[results.Outcome(b.Verdict.Verdict)]); c != 0 {
			return c
		}
		ra, _ := a.Verdict.RTO()
		rb, _ := b.Verdict.RTO()
		if c := cmp.Compare(rb, ra); c != 0 {
			return c
		}
		la, _ := a.Verdict.LostWrites()
		lb, _ := b.Verdict.LostWrites()
		return cmp.Compare(lb, la)
	})
	return sorted[:min(n, len(sorted))]
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
