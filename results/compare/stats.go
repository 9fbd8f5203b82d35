package compare

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/hadrill/hadrill/checker"
)

// mannWhitneyU is the Mann–Whitney U test (Wilcoxon rank-sum test) of
// whether values of y tend to differ from values of x, which gonum lacks.
// It is a rank test, so it asks nothing of the shape of RTO or latency
// distributions, which are skewed and have outliers.
//
// U is the statistic for x: the number of pairs (xi, yj) with xi > yj,
// ties counting one half, computed from ranks as R_x − n_x(n_x+1)/2 with
// tied values given their average rank.
//
// p is two-sided, from the normal approximation with the tie correction
// and a continuity correction of 1/2:
//
//	μ = n_x·n_y/2
//	σ² = n_x·n_y/12 · ((n+1) − Σ(t³−t)/(n(n−1)))   (t: size of each tie group)
//	z = max(|U − μ| − 1/2, 0)/σ,  p = 2·(1 − Φ(z))
//
// It matches scipy.stats.mannwhitneyu(x, y, method="asymptotic"). With all
// values tied (σ = 0) there is no evidence of a difference and p is 1. The
// approximation is rough below about 5 values per side; callers say so.
func mannWhitneyU(x, y []float64) (u, p float64) {
	nx, ny := len(x), len(y)
	if nx == 0 || ny == 0 {
		return math.NaN(), math.NaN()
	}
	type obs struct {
		v   float64
		inX bool
	}
	all := make([]obs, 0, nx+ny)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	n := float64(nx + ny)
	var rankSumX, ties float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j, averaged
		for k := i; k < j; k++ {
			if all[k].inX {
				rankSumX += avg
			}
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	u = rankSumX - float64(nx*(nx+1))/2
	mu := float64(nx*ny) / 2
	sigma := math.Sqrt(float64(nx*ny) / 12 * ((n + 1) - ties/(n*(n-1))))
	if sigma == 0 || math.IsNaN(sigma) {
		return u, 1
	}
	z := math.Max(math.Abs(u-mu)-0.5, 0) / sigma
	return u, math.Min(1, 2*distuv.UnitNormal.Survival(z))
}

// bootstrapCI is the percentile bootstrap confidence interval, at level
// 1−alpha, of center(y) − center(x): resamples times, each side is drawn
// with replacement to its own size and the difference of the centers is
// taken; the interval runs between the alpha/2 and 1−alpha/2 quantiles of
// those differences. It is deterministic for a given rng.
func bootstrapCI(x, y []float64, center func([]float64) float64, resamples int, alpha float64, rng *rand.Rand) (lo, hi float64) {
	if len(x) == 0 || len(y) == 0 || resamples <= 0 {
		return math.NaN(), math.NaN()
	}
	diffs := make([]float64, resamples)
	bx, by := make([]float64, len(x)), make([]float64, len(y))
	for i := range diffs {
		for j := range bx {
			bx[j] = x[rng.IntN(len(x))]
		}
		for j := range by {
			by[j] = y[rng.IntN(len(y))]
		}
		diffs[i] = difference(center(by), center(bx))
	}
	slices.Sort(diffs)
	return checker.Quantile(diffs, alpha/2), checker.Quantile(diffs, 1-alpha/2)
}

// difference is a − b, with equal values (two unbounded RTOs included)
// differing by 0 rather than by NaN.
func difference(a, b float64) float64 {
	if a == b {
		return 0
	}
	return a - b
}

// medianOf is the center used for measured metrics: the empirical median
// (see checker.Quantile; for an even count, the lower of the two middle values).
// It sorts xs in place.
func medianOf(xs []float64) float64 {
	slices.Sort(xs)
	return checker.Quantile(xs, 0.5)
}

// meanOf is the center used for pass rates (0/1 values): their share.
func meanOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range xs {
		s += v
	}
	return s / float64(len(xs))
}
