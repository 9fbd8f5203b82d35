package results

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hadrill/hadrill/checker"
)

// ErrNoRuns is returned when the given folders hold no run with a readable
// verdict: bad input for `hadrill report` and `hadrill compare`.
var ErrNoRuns = errors.New("no runs found")

// Run is one saved run found by FindRuns.
type Run struct {
	// Dir is the run folder, under the path it was found through.
	Dir     string
	Verdict *Verdict
}

// FindRuns walks paths (results folders, scenario folders or run folders)
// for run folders, that is folders holding verdict.json, and reads their
// verdicts. The `latest` links, and any other symbolic link, are not
// followed, and a run reached twice (two overlapping paths) counts once, so
// nothing is double counted. A verdict that cannot be read is logged and
// skipped: one damaged run must not hide months of others. Runs come back
// in order of start time.
func FindRuns(paths ...string) ([]Run, error) {
	seen := map[string]bool{}
	var runs []Run
	for _, p := range paths {
		found, err := findRunDirs(p)
		if err != nil {
			return nil, err
		}
		for _, dir := range found {
			real, err := filepath.EvalSymlinks(dir)
			if err != nil || seen[real] {
				continue
			}
			seen[real] = true
			v, err := ReadVerdict(dir)
			if err != nil {
				slog.Warn("skip run", "dir", dir, "err", err)
				continue
			}
			runs = append(runs, Run{Dir: dir, Verdict: v})
		}
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoRuns, strings.Join(paths, ", "))
	}
	slices.SortStableFunc(runs, func(a, b Run) int {
		if c := a.Verdict.Started.Compare(b.Verdict.Started); c != 0 {
			return c
		}
		return strings.Compare(a.Dir, b.Dir)
	})
	return runs, nil
}

// findRunDirs lists the run folders under root. root itself may be a
// symbolic link (results/x/latest given by hand): it is resolved, and what
// is found under it is reported under root's own name.
func findRunDirs(root string) ([]string, error) {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("find runs in %s: %w", root, err)
	}
	var out []string
	err = filepath.WalkDir(real, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			return nil // `latest` and friends: the run is reached by its own name
		case d.IsDir() && d.Name() == NodesDir && path != real:
			return fs.SkipDir // container logs, never a run
		case !d.IsDir() && d.Name() == VerdictFile:
			rel, err := filepath.Rel(real, filepath.Dir(path))
			if err != nil {
				return err
			}
			out = append(out, filepath.Join(root, rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find runs in %s: %w", root, err)
	}
	return out, nil
}

// RunsSince keeps the runs started at or after t.
func RunsSince(runs []Run, t time.Time) []Run {
	var out []Run
	for _, r := range runs {
		if !r.Verdict.Started.Before(t) {
			out = append(out, r)
		}
	}
	return out
}

// groupByScenario splits runs by scenario name, names in order.
func groupByScenario(runs []Run) ([]string, map[string][]Run) {
	by := map[string][]Run{}
	var names []string
	for _, r := range runs {
		if _, ok := by[r.Verdict.Scenario]; !ok {
			names = append(names, r.Verdict.Scenario)
		}
		by[r.Verdict.Scenario] = append(by[r.Verdict.Scenario], r)
	}
	slices.Sort(names)
	return names, by
}

// runRTO is a run's RTO in seconds: the rto check's value, +Inf when
// unbounded. ok is false when the run has no RTO measurement, including
// when the check is unknown: an unknown value is never read as a number.
func runRTO(v *Verdict) (seconds float64, ok bool) {
	c, has := v.Checks[checker.CheckRTO]
	switch {
	case !has:
		return 0, false
	case c.Unbounded:
		return math.Inf(1), true
	case c.Value != nil && c.Result != checker.Unknown:
		return *c.Value, true
	}
	return 0, false
}

// runLostWrites is the rpo check's count of lost acknowledged writes.
func runLostWrites(v *Verdict) (float64, bool) { return checkValue(v, checker.CheckRPO) }

// runAvailability is the availability check's ratio.
func runAvailability(v *Verdict) (float64, bool) { return checkValue(v, checker.CheckAvailability) }

// runWriteP99 is the p99 latency of ok writes over the whole run, seconds.
func runWriteP99(v *Verdict) (float64, bool) {
	s, ok := v.Latency.Run["write"]
	if !ok || s.Count == 0 {
		return 0, false
	}
	return s.P99, true
}

// checkValue is a check's finite value, if it has one and the check is not
// unknown. An unknown RPO, say, holds the writes known lost so far (often
// 0) because the final read never happened: read as a number it would make
// the run look better than anything it proved.
func checkValue(v *Verdict, name string) (float64, bool) {
	c, ok := v.Checks[name]
	if !ok || c.Value == nil || c.Result == checker.Unknown {
		return 0, false
	}
	return *c.Value, true
}

// isUnknown reports whether a run has the check, with an unknown result
// and no unbounded value: a measurement left out of statistics.
func isUnknown(v *Verdict, name string) bool {
	c, ok := v.Checks[name]
	return ok && c.Result == checker.Unknown && !c.Unbounded
}

// unrecoveredDowntime is what a run with an unbounded RTO shows of its
// downtime: from the earliest fault without a recorded RTO to the end of
// the run. The real outage lasted at least that long.
func unrecoveredDowntime(v *Verdict) float64 {
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
