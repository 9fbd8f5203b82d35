package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/runreport"
	"github.com/hadrill/hadrill/scenarios"
)

// ErrBadRun marks a run folder that cannot be checked as given: a missing or
// broken file. The CLI maps it to exit 2 (bad input).
var ErrBadRun = errors.New("bad run folder")

// CheckOptions tune an offline check.
type CheckOptions struct {
	// LinearizabilityTimeout bounds porcupine (0: the checker's default).
	LinearizabilityTimeout time.Duration
}

// CheckRun checks a run folder and writes its verdict, JUnit file, report
// and summary, and (on a linearizability failure) the porcupine
// visualization. A live run calls it
// on its own folder once the cluster is gone, and `hadrill check` calls it on
// a saved one: both read the same files the same way, so they reach the same
// verdict.
func CheckRun(ctx context.Context, runDir string, opt CheckOptions) (*results.Verdict, error) {
	dir := results.RunDir{Path: runDir}
	s, err := scenarios.Load(dir.File(results.ScenarioFile))
	if err != nil {
		return nil, fmt.Errorf("load scenario as run: %w", errors.Join(ErrBadRun, err))
	}
	meta, err := results.ReadMeta(runDir)
	if err != nil {
		return nil, errors.Join(ErrBadRun, err)
	}
	h, err := readHistory(dir.File(results.HistoryFile), maxTime(s, meta))
	if err != nil {
		return nil, err
	}
	events, err := readJSONL[history.FaultEvent](dir.File(results.FaultsFile))
	if err != nil {
		return nil, err
	}
	folded := history.FoldFaults(events)
	in := checker.Input{Pairs: h.Ops, Contract: h.Contract, Faults: folded, End: meta.LoadEnd}
	rep := checker.Run(ctx, in, checkerTargets(s), checker.Options{
		LinearizabilityTimeout: opt.LinearizabilityTimeout,
		Settle:                 s.Targets.SettleWindow.Std(),
	})
	if err := ctx.Err(); err != nil {
		// An offline check cut short must not overwrite the verdict
		// with a half-finished one.
		return nil, fmt.Errorf("check interrupted: %w", err)
	}
	if meta.Interrupted {
		interrupted(&rep)
	}
	aborted(&rep, meta.Abort)
	environment(&rep, meta.Environment)
	v := verdict(s, meta, rep, folded)
	if err := writeVerdictFiles(dir, v, rep, h); err != nil {
		return v, err
	}
	return v, nil
}

// interrupted adjusts a report for a run cut short by the user: a fault
// that had not been recovered from when the run stopped says nothing about
// the system, so its unbounded RTO is unknown rather than a failure.
// Findings that a prefix can prove (a non-linearizable history, lost
// writes) stand.
func interrupted(rep *checker.Report) {
	c, ok := rep.Checks[checker.CheckRTO]
	if !ok || !c.Unbounded || c.Result != checker.Fail {
		return
	}
	c.Result = checker.Unknown
	c.Detail = "the run was interrupted before recovery; " + c.Detail
	rep.Checks[checker.CheckRTO] = c
	results := make([]checker.Result, 0, len(rep.Checks))
	for _, c := range rep.Checks {
		results = append(results, c.Result)
	}
	rep.Verdict = checker.Merge(results...)
}

// readJSONL reads one of the run's JSONL files. A torn last line (the run
// crashed mid-write) is dropped with a warning; any other broken line is bad
// input naming the file and line.
func readJSONL[T any](path string) ([]T, error) {
	vs, torn, err := history.ReadFile[T](path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), errors.Join(ErrBadRun, err))
	}
	if err != nil {
		return nil, errors.Join(ErrBadRun, err)
	}
	if torn != nil {
		slog.Warn(torn.String())
	}
	return vs, nil
}

// readHistory reads and pairs history.jsonl in one pass (history.ReadOperations),
// with readJSONL's rules for a missing file, a torn line and a broken one.
func readHistory(path string, maxTime int64) (history.Paired, error) {
	h, err := history.ReadOperations(path, history.ReadOptions{MaxTime: maxTime})
	if errors.Is(err, os.ErrNotExist) {
		return h, fmt.Errorf("read %s: %w", filepath.Base(path), errors.Join(ErrBadRun, err))
	}
	if err != nil {
		return h, errors.Join(ErrBadRun, err)
	}
	if h.Warning != nil {
		slog.Warn(h.Warning.String())
	}
	return h, nil
}

// maxTime bounds the times a run's history may hold: twice the run's
// recorded end or the scenario's duration, plus an hour. Anything later is
// in another time base (Unix-epoch nanoseconds, say), and is refused with
// its line rather than checked or drawn as if the run had lasted decades.
func maxTime(s *scenarios.Scenario, meta results.Meta) int64 {
	span := max(meta.End, meta.LoadEnd, int64(s.Duration.Std()))
	return 2*span + int64(time.Hour)
}

// checkerTargets maps the scenario's targets onto the checker's.
func checkerTargets(s *scenarios.Scenario) checker.Targets {
	t := checker.Targets{Linearizable: s.Targets.Linearizable, RPO: s.Targets.RPO, Availability: s.Targets.Availability}
	if s.Targets.RTO != nil {
		d := s.Targets.RTO.Std()
		t.RTO = &d
	}
	if s.Targets.RPOWindow != nil {
		d := s.Targets.RPOWindow.Std()
		t.RPOWindow = &d
	}
	return t
}

// verdict assembles verdict.json from the checks and the run's record.
func verdict(s *scenarios.Scenario, meta results.Meta, rep checker.Report, folded []history.Fault) *results.Verdict {
	v := &results.Verdict{
		Scenario:    s.Name,
		Verdict:     rep.Verdict,
		Started:     meta.Started,
		LoadStart:   meta.LoadStart,
		Ops:         rep.Ops,
		Checks:      rep.Checks,
		Faults:      results.FaultRecords(folded),
		System:      s.Cluster.System,
		Image:       meta.Image,
		Engines:     meta.Engines,
		Nodes:       s.Cluster.Nodes,
		Option:      s.Cluster.Options,
		Latency:     rep.Latency,
		Interrupted: meta.Interrupted,
		Abort:       meta.Abort,
		Errors:      meta.Errors,
	}
	if s.Seed != nil {
		v.Seed = *s.Seed
	}
	if !meta.Finished.IsZero() {
		v.DurationSeconds = meta.Finished.Sub(meta.Started).Seconds()
	}
	for i := range v.Faults {
		for _, fr := range rep.Faults {
			if fr.Fault == v.Faults[i].ID {
				v.Faults[i].RTO = fr.RTO
				v.Faults[i].Outages = fr.Outages
				v.Faults[i].Availability = fr.Availability
			}
		}
	}
	return v
}

// writeVerdictFiles writes verdict.json and junit.xml, and the porcupine
// visualization when linearizability failed.
func writeVerdictFiles(dir results.RunDir, v *results.Verdict, rep checker.Report, h history.Paired) error {
	if err := results.WriteVerdict(dir, v); err != nil {
		return err
	}
	if err := results.WriteJUnit(dir, v); err != nil {
		return err
	}
	if rep.Linearization != nil && rep.Linearization.Check.Result == checker.Fail {
		f, err := os.Create(dir.File(results.LinearizeFile))
		if err != nil {
			return fmt.Errorf("write linearizability visualization: %w", err)
		}
		werr := rep.Linearization.WriteVisualization(f)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("write linearizability visualization: %w", err)
		}
	}
	if err := runreport.WriteChecked(dir, v, h.Ops, h.Torn); err != nil {
		return err
	}
	return results.WriteSummary(dir)
}
