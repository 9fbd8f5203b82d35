package checker

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
)

// load reads testdata/<name>.history.jsonl and, when it exists,
// testdata/<faults>.faults.jsonl (faults defaults to name).
func load(t testing.TB, name string, faults ...string) Input {
	t.Helper()
	ops, torn, err := history.ReadFile[history.Op](filepath.Join("testdata", name+".history.jsonl"))
	if err != nil || torn != nil {
		t.Fatalf("read history %s: torn=%v err=%v", name, torn, err)
	}
	fname := name
	if len(faults) > 0 {
		fname = faults[0]
	}
	events, _, err := history.ReadFile[history.FaultEvent](filepath.Join("testdata", fname+".faults.jsonl"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read faults %s: %v", fname, err)
	}
	return Input{Ops: ops, Faults: history.FoldFaults(events)}
}

// sec is a time in seconds as the ns the history uses.
func sec(s float64) int64 { return int64(s*1e3+0.5) * int64(time.Millisecond) }

func dur(d time.Duration) *time.Duration { return &d }
func num(n int) *int                     { return &n }

// values dereferences per-fault values for comparison, nil as -1.
func values(ps []*float64) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = -1
		if p != nil {
			out[i] = *p
		}
	}
	return out
}

// value is *p, or -1 for nil, for readable test failures.
func value(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// fmtSscan is fmt.Sscan, named apart so rules_test.go reads as data.
var fmtSscan = fmt.Sscan
