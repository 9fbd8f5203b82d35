package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/runreport"
	"github.com/hadrill/hadrill/scenarios"
)

// ErrBadRun marks a run folder that cannot be checked as given: a missing,
// unreadable or broken file. The CLI maps it to exit 2 (bad input): a run
// that cannot be checked is refused, never passed.
var ErrBadRun = errors.New("bad run folder")

// RunFileError is a file of a run folder that cannot be checked: missing,
// unreadable or broken. It matches ErrBadRun, and its message starts with
// the file's path (path: what is wrong), as a compiler's does, so that CI
// and editors can point at it.
type RunFileError struct {
	Path string
	Err  error
}

func (e *RunFileError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap keeps os.ErrNotExist and friends matchable.
func (e *RunFileError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrBadRun) hold.
func (e *RunFileError) Is(target error) bool { return target == ErrBadRun }

// FilePath is the file the error is about.
func (e *RunFileError) FilePath() string { return e.Path }

// badRun marks err (already naming its file and line, like a scenario's
// ValidationErrors or a history line's error) as a run folder that cannot be
// checked, without adding words in front of the file name.
type badRun struct{ err error }

func (e badRun) Error() string        { return e.err.Error() }
func (e badRun) Unwrap() error        { return e.err }
func (e badRun) Is(target error) bool { return target == ErrBadRun }

func asBadRun(err error) error { return badRun{err} }

// requiredFiles are the files a run folder cannot be checked without: the
// scenario as run (the targets), run.json (how the run ended: the load's
// end bounds the checks, an environment failure makes the verdict unknown)
// and the history. Without run.json a re-check would pass a run whose
// environment failed, and date it year 1.
var requiredFiles = []string{results.ScenarioFile, results.MetaFile, results.HistoryFile}

// CheckOptions tune an offline check.
type CheckOptions struct {
	// LinearizabilityTimeout bounds porcupine (0: the checker's default).
	LinearizabilityTimeout time.Duration
	// Write rewrites the run's verdict, JUnit file, report and summary.
	// Without it the check only returns its verdict: the verdict a run
	// recorded is evidence, and a re-check does not overwrite it unless
	// asked.
	Write bool
	// Warnings receives tolerated damage to the run's files (a torn last
	// line), one line each starting with file:line:, as errors about files
	// do. Nil logs them with slog.
	Warnings io.Writer
}

// warn reports a tolerated problem with a run's file.
func (o CheckOptions) warn(msg string) {
	if o.Warnings == nil {
		slog.Warn(msg)
		return
	}
	fmt.Fprintln(o.Warnings, msg)
}

// CheckRun checks a run folder and returns its verdict; with opt.Write it
// also writes the verdict, JUnit file, report and summary, and (on a
// linearizability failure) the porcupine visualization. A live run calls it
// on its own folder once the cluster is gone, and `hadrill check` calls it on
// a saved one: both read the same files the same way, so they reach the same
// verdict. A folder missing scenario.yaml, run.json or history.jsonl, or with
// one that cannot be read, is an error matching ErrBadRun that names the
// file; an empty history is a verdict of unknown.
func CheckRun(ctx context.Context, runDir string, opt CheckOptions) (*results.Verdict, error) {
	dir := results.RunDir{Path: runDir}
	if err := checkReadable(dir); err != nil {
		return nil, err
	}
	s, err := scenarios.Load(dir.File(results.ScenarioFile))
	if err != nil {
		return nil, asBadRun(err)
	}
	meta, err := results.ReadMeta(runDir)
	if err != nil {
		return nil, &RunFileError{Path: dir.File(results.MetaFile), Err: fmt.Errorf("decode: %w", errors.Unwrap(err))}
	}
	h, err := readHistory(dir.File(results.HistoryFile), maxTime(s, meta), opt)
	if err != nil {
		return nil, err
	}
	events, err := readJSONL[history.FaultEvent](dir.File(results.FaultsFile), opt)
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
	if !opt.Write {
		return v, nil
	}
	if err := writeVerdictFiles(dir, v, rep, h); err != nil {
		return v, err
	}
	return v, nil
}

// checkReadable refuses a run folder missing one of requiredFiles, or with
// one that cannot be opened, naming the file.
func checkReadable(dir results.RunDir) error {
	if fi, err := os.Stat(dir.Path); err != nil || !fi.IsDir() {
		return &RunFileError{Path: dir.Path, Err: errors.New("not a run folder: no such folder")}
	}
	var errs []error
	for _, name := range requiredFiles {
		path := dir.File(name)
		f, err := os.Open(path)
		if err == nil {
			var fi os.FileInfo
			if fi, err = f.Stat(); err == nil && fi.IsDir() {
				err = errors.New("is a folder, not a file")
			}
			f.Close()
		}
		switch {
		case errors.Is(err, os.ErrNotExist):
			errs = append(errs, &RunFileError{Path: path, Err: errMissing})
		case err != nil:
			errs = append(errs, &RunFileError{Path: path, Err: fmt.Errorf("unreadable: %w", pathless(err))})
		}
	}
	return errors.Join(errs...)
}

// errMissing is a run folder's file that is not there. It matches
// os.ErrNotExist without printing it: the path is already in front.
var errMissing error = missingFile{}

type missingFile struct{}

func (missingFile) Error() string { return "missing: a run folder cannot be checked without it" }
func (missingFile) Unwrap() error { return os.ErrNotExist }

// pathless drops the path an *fs.PathError repeats, for messages that
// already start with it.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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
func readJSONL[T any](path string, opt CheckOptions) ([]T, error) {
	vs, torn, err := history.ReadFile[T](path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &RunFileError{Path: path, Err: errMissing}
	}
	if err != nil {
		return nil, runFileError(path, err)
	}
	if torn != nil {
		opt.warn(torn.String())
	}
	return vs, nil
}

// readHistory reads and pairs history.jsonl in one pass (history.ReadOperations),
// with readJSONL's rules for a missing file, a torn line and a broken one.
func readHistory(path string, maxTime int64, opt CheckOptions) (history.Paired, error) {
	h, err := history.ReadOperations(path, history.ReadOptions{MaxTime: maxTime})
	if errors.Is(err, os.ErrNotExist) {
		return h, &RunFileError{Path: path, Err: errMissing}
	}
	if err != nil {
		return h, runFileError(path, err)
	}
	if h.Warning != nil {
		opt.warn(h.Warning.String())
	}
	return h, nil
}

// runFileError marks a problem reading one of the run's files as bad input.
// An error that already names the file and line (history.LineError) keeps
// its own message; any other is prefixed with the path.
func runFileError(path string, err error) error {
	var le *history.LineError
	if errors.As(err, &le) {
		return asBadRun(err)
	}
	return &RunFileError{Path: path, Err: pathless(err)}
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
