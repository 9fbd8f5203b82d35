package checker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/drill"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
)

// TestCheckRunEmptyHistoryIsUnknown: `hadrill check` of a run folder whose
// history.jsonl is empty gives verdict unknown (exit 1), whatever the
// scenario's targets; here it sets only linearizable.
func TestCheckRunEmptyHistoryIsUnknown(t *testing.T) {
	dir := t.TempDir()
	writeRunFolder(t, dir, nil)
	v, err := drill.CheckRun(context.Background(), dir, drill.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Verdict != checker.Unknown || v.Checks[checker.CheckAvailability].Result != checker.Unknown {
		t.Errorf("verdict %q, checks %+v; want unknown", v.Verdict, v.Checks)
	}
}

// TestCheckRunEpochTimesAreRefused: a history whose times are Unix-epoch
// nanoseconds is refused as bad input (exit 2), naming the file and line,
// before anything is sized by time.
func TestCheckRunEpochTimesAreRefused(t *testing.T) {
	dir := t.TempDir()
	const epoch = int64(1_764_000_000_000_000_000)
	ops := checker.ConcurrentHistory(1, 2000, 4, 4)
	for i := range ops {
		ops[i].Time += epoch
	}
	writeRunFolder(t, dir, ops)
	_, err := drill.CheckRun(context.Background(), dir, drill.CheckOptions{})
	var le *history.LineError
	if !errors.Is(err, drill.ErrBadRun) || !errors.Is(err, history.ErrTimeOutsideRun) || !errors.As(err, &le) ||
		le.Line != 1 || !strings.Contains(err.Error(), filepath.Join(dir, results.HistoryFile)+":1:") {
		t.Fatalf("err = %v; want a bad run naming history.jsonl:1", err)
	}
	if _, err := os.Stat(filepath.Join(dir, results.ReportFile)); !os.IsNotExist(err) {
		t.Errorf("a report was written for a refused history: %v", err)
	}
}
