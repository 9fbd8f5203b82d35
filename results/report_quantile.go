package results

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// quantile is the one place in results that computes a quantile, so that
// every table, plot and projection means the same thing by "p95". It uses
// the definition checker uses for latency (gonum stat.Quantile with
// stat.Empirical): the smallest observed value with at least a share p of
// the sample at or below it, so that every reported quantile is a value
// that was actually seen. checker exports no quantile helper; if it ever
// does, this should call it.
//
// sorted must be in ascending order. It returns NaN for an empty sample.
func quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	return stat.Quantile(p, stat.Empirical, sorted, nil)
}

// sortedCopy returns xs sorted ascending, leaving xs alone.
func sortedCopy(xs []float64) []float64 {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

// median is quantile 0.5 of an unsorted sample.
func median(xs []float64) float64 { return quantile(sortedCopy(xs), 0.5) }
