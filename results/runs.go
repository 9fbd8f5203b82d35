package results

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrNoRuns is returned when the given folders hold no run with a readable
// verdict: bad input for `hadrill report` and `hadrill compare`.
var ErrNoRuns = errors.New("no runs found")

// Run is one saved run found by FindRuns.
type Run struct {
	// Dir is the run folder, under the path it was found through.
	Dir string
	// RunID is run.json's run_id, "" when the folder has none: copies
	// of one run share it.
	RunID   string
	Verdict *Verdict
}

// FindRuns walks paths (results folders, scenario folders or run folders)
// for run folders, that is folders holding verdict.json, and reads their
// verdicts. The `latest` links, and any other symbolic link, are not
// followed, a run reached twice (two overlapping paths) counts once, and so
// does a run copied to several folders (the same run_id in run.json), so
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
			m, err := ReadMeta(dir)
			if err != nil {
				slog.Warn("read run meta; the run is kept but cannot be told from its copies", "dir", dir, "err", err)
			}
			runs = append(runs, Run{Dir: dir, RunID: m.RunID, Verdict: v})
		}
	}
	runs = dropCopies(runs)
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

// dropCopies keeps the first of the runs that share a run_id, in the order
// they were found (the paths as given, each walked in lexical order): a
// run folder copied into an archive, or into a second results folder given
// alongside, is one run, and counting it twice would weigh it twice in
// every statistic.
func dropCopies(runs []Run) []Run {
	first := map[string]string{}
	out := runs[:0]
	for _, r := range runs {
		if r.RunID != "" {
			if kept, ok := first[r.RunID]; ok {
				slog.Info("skip copy of run", "dir", r.Dir, "run_id", r.RunID, "kept", kept)
				continue
			}
			first[r.RunID] = r.Dir
		}
		out = append(out, r)
	}
	return out
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

// GroupByScenario splits runs by scenario name, names in order: the drill
// report and the comparison both count per scenario.
func GroupByScenario(runs []Run) ([]string, map[string][]Run) {
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
