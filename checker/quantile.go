package checker

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// Quantile is hadrill's one definition of a quantile, used by every check,
// table, plot and projection, so that "p95" means the same everywhere: the
// empirical quantile (gonum stat.Quantile with stat.Empirical), the
// smallest observed value with at least a share p of the sample at or below
// it. Every reported quantile is thus a value that was actually seen.
//
// sorted must be in ascending order. It returns NaN for an empty sample.
func Quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	return stat.Quantile(p, stat.Empirical, sorted, nil)
}
