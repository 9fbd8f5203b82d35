package results

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/hadrill/hadrill/checker"
)

// DrillOptions configure a drill report.
type DrillOptions struct {
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

// Drill is the drill report over many runs: one ScenarioDrill per scenario.
type Drill struct {
	Options   DrillOptions
	Runs      int
	From, To  time.Time
	Scenarios []ScenarioDrill
}

// ScenarioDrill is one scenario's record over its runs.
type ScenarioDrill struct {
	Scenario string
	// Runs are in order of start time.
	Runs                    []Run
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
	Worst                 []Run
	Projection            Projection
}

// PassRate is the share of runs whose verdict was pass.
func (s ScenarioDrill) PassRate() float64 {
	return float64(s.Passed) / float64(max(len(s.Runs), 1))
}

// BuildDrill aggregates runs (see FindRuns) by scenario and projects each
// scenario's yearly downtime and data loss.
func BuildDrill(runs []Run, opt DrillOptions) Drill {
	if opt.Simulations <= 0 {
		opt.Simulations = DefaultSimulations
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	d := Drill{Options: opt, Runs: len(runs)}
	if len(runs) > 0 {
		d.From, d.To = runs[0].Verdict.Started, runs[0].Verdict.Started
	}
	for _, r := range runs {
		d.From = minTime(d.From, r.Verdict.Started)
		d.To = maxTime(d.To, r.Verdict.Started)
	}
	names, by := groupByScenario(runs)
	for _, name := range names {
		s := scenarioDrill(name, by[name])
		s.Projection = projectRuns(s.Runs, opt.FailuresPerYear, opt.Years, opt.Simulations, opt.Seed)
		d.Scenarios = append(d.Scenarios, s)
	}
	return d
}

// scenarioDrill computes one scenario's statistics.
func scenarioDrill(name string, runs []Run) ScenarioDrill {
	s := ScenarioDrill{Scenario: name, Runs: runs}
	var rtos, avail []float64
	for _, r := range runs {
		switch r.Verdict.Verdict {
		case checker.Pass:
			s.Passed++
		case checker.Fail:
			s.Failed++
		default:
			s.Unknown++
		}
		switch v, ok := runRTO(r.Verdict); {
		case ok && math.IsInf(v, 1):
			s.Unbounded++ // left out of p50 and p95; it makes the max
			s.RTOMax = v
		case ok:
			rtos = append(rtos, v)
		case isUnknown(r.Verdict, checker.CheckRTO):
			s.RTOUnknown++
		}
		if isUnknown(r.Verdict, checker.CheckRPO) {
			s.RPOUnknown++
		}
		if n, ok := runLostWrites(r.Verdict); ok {
			s.RPORuns++
			s.LostTotal += n
			s.LostMax = math.Max(s.LostMax, n)
			if n > 0 {
				s.RunsWithLoss++
			}
		}
		if a, ok := runAvailability(r.Verdict); ok {
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
// unknown before passed, then the highest RTO, then the most lost writes.
func worstRuns(runs []Run, n int) []Run {
	rank := map[checker.Result]int{checker.Fail: 0, checker.Unknown: 1, checker.Pass: 2}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b Run) int {
		if c := cmp.Compare(rank[a.Verdict.Verdict], rank[b.Verdict.Verdict]); c != 0 {
			return c
		}
		ra, _ := runRTO(a.Verdict)
		rb, _ := runRTO(b.Verdict)
		if c := cmp.Compare(rb, ra); c != 0 {
			return c
		}
		la, _ := runLostWrites(a.Verdict)
		lb, _ := runLostWrites(b.Verdict)
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
