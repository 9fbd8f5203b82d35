package runreport

import (
	"testing"

	"github.com/hadrill/hadrill/history"
)

// TestSeriesBoundedWhateverTheTimes: times in another base (Unix-epoch
// nanoseconds), or negative, never size the plot: at most maxBuckets
// buckets, every operation counted once.
func TestSeriesBoundedWhateverTheTimes(t *testing.T) {
	const epoch = int64(1_764_000_000_000_000_000)
	var pairs []history.Operation
	for i, at := range []int64{epoch, epoch + 1e9, -5e9, 3e9} {
		pairs = append(pairs, history.Operation{
			Invoke:     history.Op{Index: int64(2 * i), Type: history.Invoke, F: history.Read, Key: "k", Time: at},
			Completion: history.Op{Index: int64(2*i + 1), Type: history.OK, F: history.Read, Key: "k", Time: at + 1e6},
		})
	}
	s := buildSeries(pairs, nil, nil, 10)
	total := 0.0
	for _, n := range s.OK {
		total += n
	}
	if len(s.Centers) > maxBuckets || total != 4 {
		t.Errorf("%d buckets (max %d), %v operations counted (want 4)", len(s.Centers), maxBuckets, total)
	}
}
