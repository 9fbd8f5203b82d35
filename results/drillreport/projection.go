package drillreport

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
)

// DefaultSimulations is how many horizons the projection simulates: enough
// that its p95 moves by well under a percent between seeds.
const DefaultSimulations = 10000

// ProjectionAssumptions states the model in words, for every report that
// shows a projection: it is a model built on drills, not a measurement, and
// a reader must be able to see what it takes for granted.
const ProjectionAssumptions = "Failures arrive independently, as a Poisson process at the given rate. " +
	"Each failure behaves like one drilled run of the scenario, drawn at random (with replacement) from the runs " +
	"in this report: its downtime is that run's RTO (the worst of its disruptive faults) and its data loss that run's " +
	"lost acknowledged writes; downtime and loss are resampled from the runs that measured each. " +
	"A drilled run whose RTO was unbounded (no recovery before the run ended) counts with the downtime it showed, " +
	"from its fault to the end of the run: a lower bound, since in production such a failure lasts until someone " +
	"intervenes; the share of simulated periods with at least one such failure is reported apart. " +
	"The projection is only as good as the drills: it knows nothing about failure kinds that were not drilled."

// Spread is the distribution of a simulated quantity over the horizons.
type Spread struct {
	Mean, P50, P95 float64
}

// Projection is the Monte Carlo projection of downtime and lost writes over
// a horizon of Years years for one scenario.
type Projection struct {
	FailuresPerYear float64
	Years           float64
	Simulations     int
	Seed            uint64
	// DowntimeSamples and LossSamples are how many drilled runs the
	// draws come from; 0 means that quantity was not measured, and its
	// Spread is meaningless.
	DowntimeSamples, LossSamples int
	// DowntimeMinutes and LostWrites are per horizon.
	DowntimeMinutes Spread
	LostWrites      Spread
	// PUnrecovered is the share of horizons with at least one failure
	// drawn from a run that never recovered; PAnyLoss, with at least one
	// lost write.
	PUnrecovered, PAnyLoss float64
}

// drawSample is one drilled run as the projection sees it.
type drawSample struct {
	value       float64
	unrecovered bool
}

// project simulates sims horizons of years years: the number of failures
// in each is Poisson with mean rate×years, and each failure's downtime
// (seconds) and lost writes are drawn from the given samples. It is
// deterministic for a seed.
func project(downtime []drawSample, lost []float64, rate, years float64, sims int, seed uint64) Projection {
	p := Projection{FailuresPerYear: rate, Years: years, Simulations: sims, Seed: seed,
		DowntimeSamples: len(downtime), LossSamples: len(lost)}
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rng := rand.New(src)
	failures := distuv.Poisson{Lambda: rate * years, Src: src}
	down := make([]float64, sims)
	loss := make([]float64, sims)
	var unrecovered, anyLoss int
	for i := range sims {
		k := 0
		if failures.Lambda > 0 {
			k = int(failures.Rand())
		}
		stuck := false
		for range k {
			if len(downtime) > 0 {
				d := downtime[rng.IntN(len(downtime))]
				down[i] += d.value / 60
				stuck = stuck || d.unrecovered
			}
			if len(lost) > 0 {
				loss[i] += lost[rng.IntN(len(lost))]
			}
		}
		if stuck {
			unrecovered++
		}
		if loss[i] > 0 {
			anyLoss++
		}
	}
	p.DowntimeMinutes, p.LostWrites = spreadOf(down), spreadOf(loss)
	p.PUnrecovered = float64(unrecovered) / float64(max(sims, 1))
	p.PAnyLoss = float64(anyLoss) / float64(max(sims, 1))
	return p
}

// spreadOf summarises simulated values (sorting them).
func spreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{Mean: math.NaN(), P50: math.NaN(), P95: math.NaN()}
	}
	slices.Sort(xs)
	return Spread{Mean: stat.Mean(xs, nil), P50: checker.Quantile(xs, 0.5), P95: checker.Quantile(xs, 0.95)}
}

// projectRuns builds the projection's samples from drilled runs of one
// scenario and simulates.
func projectRuns(runs []results.Run, rate, years float64, sims int, seed uint64) Projection {
	var downtime []drawSample
	var lost []float64
	for _, r := range runs {
		if rto, ok := r.Verdict.RTO(); ok {
			if math.IsInf(rto, 1) {
				downtime = append(downtime, drawSample{value: unrecoveredDowntime(r.Verdict), unrecovered: true})
			} else {
				downtime = append(downtime, drawSample{value: rto})
			}
		}
		if n, ok := r.Verdict.LostWrites(); ok {
			lost = append(lost, n)
		}
	}
	return project(downtime, lost, rate, years, sims, seed)
}

// unrecoveredDowntime is what a run with an unbounded RTO shows of its
// downtime: from the earliest fault without a recorded RTO to the end of
// the run. The real outage lasted at least that long.
func unrecoveredDowntime(v *results.Verdict) float64 {
	from := math.Inf(1)
	for _, f := range v.Faults {
		if f.RTO == nil {
			from = math.Min(from, f.Requested)
		}
	}
	if math.IsInf(from, 1) {
		return 0
	}
	return math.Max(v.DurationSeconds-from, 0)
}
