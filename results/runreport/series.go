package runreport

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"slices"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/svgplot"
)

// runData is what the per-run report reads from a run folder.
type runData struct {
	Dir     results.RunDir
	Verdict *results.Verdict
	// Pairs are the history's operations, paired (final reads included).
	Pairs  []history.Operation
	Faults []results.FaultRecord
	// Scenario is scenario.yaml as run, "" when the file is missing.
	Scenario string
	// Torn is set when history.jsonl ended in a torn line (a crash).
	Torn bool
	// Roles are the system's own answers to "who is primary" over the
	// run (roles.jsonl), nil for runs that did not record them.
	Roles []history.RoleSample
}

// readRoles reads roles.jsonl; a missing file (an older run) is no error.
func readRoles(dir results.RunDir) []history.RoleSample {
	rs, _, err := history.ReadFile[history.RoleSample](dir.File(results.RolesFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		slog.Warn("read roles of run", "dir", dir.Path, "err", err)
	}
	return rs
}

// loadRun reads a run folder. The verdict is required; the history and the
// faults are read when present, so that a report can still be written for
// a run whose history was lost.
func loadRun(dir results.RunDir) (*runData, error) {
	v, err := results.ReadVerdict(dir.Path)
	if err != nil {
		return nil, err
	}
	d := &runData{Dir: dir, Verdict: v, Faults: v.Faults}
	h, err := history.ReadOperations(dir.File(results.HistoryFile), history.ReadOptions{})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read history: %w", err)
	}
	d.Pairs, d.Torn = h.Ops, h.Torn
	d.Roles = readRoles(dir)
	if len(d.Faults) == 0 {
		// An older or partial verdict: fold the faults from their log.
		evs, _, err := history.ReadFile[history.FaultEvent](dir.File(results.FaultsFile))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read faults: %w", err)
		}
		d.Faults = results.FaultRecords(history.FoldFaults(evs))
	}
	if b, err := os.ReadFile(dir.File(results.ScenarioFile)); err == nil {
		d.Scenario = string(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		slog.Warn("read scenario of run", "dir", dir.Path, "err", err)
	}
	return d, nil
}

// bucketSeconds is the width of a time-plot bucket, and maxBuckets the most
// a plot gets: a run longer than maxBuckets seconds gets wider buckets, so
// that no time value, however far out, sizes an allocation.
const (
	bucketSeconds = 1.0
	maxBuckets    = 3600
)

// series is a run's workload cut into buckets of bucketSeconds for the time
// plots. Operations are placed where their outcome became known (their
// completion); an invocation that never completed is placed at its
// invocation and counted as info. Final reads are left out: they are the
// checker's instrument, not the workload.
type series struct {
	// End is the right edge of the time axis, in seconds, and Width the
	// width of a bucket.
	End, Width float64
	// Centers are the buckets' mid-points, in seconds.
	Centers          []float64
	OK, Fail, Info   []float64
	P50, P99         []float64 // ms, NaN where no operation completed ok
	Writers          []map[string]int
	Nodes            []string
	MultiWriterSpans []int // buckets in which two or more nodes acked writes
	// Claims are, per bucket, the nodes that said they were primary in a
	// sample of roles.jsonl; nil when the run recorded no roles.
	Claims          []map[string]bool
	MultiClaimSpans []int // buckets in which two or more nodes claimed primary
}

// addRoles places the system's role samples in the buckets.
func (s *series) addRoles(roles []history.RoleSample, nodes map[string]bool) {
	if len(roles) == 0 || len(s.Centers) == 0 {
		return
	}
	n := len(s.Centers)
	s.Claims = make([]map[string]bool, n)
	for _, r := range roles {
		b := int(min(max(results.Seconds(r.Time)/s.Width, 0), float64(n-1)))
		for _, c := range r.Claimants() {
			if s.Claims[b] == nil {
				s.Claims[b] = map[string]bool{}
			}
			s.Claims[b][c] = true
			nodes[c] = true
		}
		for _, c := range r.Claims {
			nodes[c.Node] = true
		}
	}
	for i, c := range s.Claims {
		if len(c) > 1 {
			s.MultiClaimSpans = append(s.MultiClaimSpans, i)
		}
	}
}

// buildSeries buckets ops. The time axis covers every operation and every
// fault window, so a fault that outlived the workload is still drawn.
// Times before 0 are drawn in the first bucket and times past the axis in
// the last; the axis is at most maxBuckets wide.
func buildSeries(all []history.Operation, roles []history.RoleSample, faults []results.FaultRecord, duration float64) series {
	pairs := workloadPairs(all)
	end := axisEnd(pairs, faults, duration)
	width := max(bucketSeconds, math.Ceil(end/maxBuckets))
	n := int(min(math.Ceil(end/width), maxBuckets))
	s := series{End: float64(n) * width, Width: width}
	s.Centers = make([]float64, n)
	s.OK, s.Fail, s.Info = make([]float64, n), make([]float64, n), make([]float64, n)
	s.Writers = make([]map[string]int, n)
	lat := make([][]float64, n)
	for i := range n {
		s.Centers[i] = (float64(i) + 0.5) * width
	}
	nodes := map[string]bool{}
	for _, p := range pairs {
		at := p.Completion.Time
		if p.Completion.Type == "" {
			at = p.Invoke.Time
		}
		b := int(min(max(results.Seconds(at)/width, 0), float64(n-1)))
		switch p.Outcome() {
		case history.OK:
			s.OK[b]++
			lat[b] = append(lat[b], float64(p.Completion.Time-p.Invoke.Time)/1e6)
			if isWriteOp(p.Invoke.F) && p.Completion.Node != "" {
				if s.Writers[b] == nil {
					s.Writers[b] = map[string]int{}
				}
				s.Writers[b][p.Completion.Node]++
				nodes[p.Completion.Node] = true
			}
		case history.Fail:
			s.Fail[b]++
		default:
			s.Info[b]++
		}
	}
	s.P50, s.P99 = bucketQuantiles(lat)
	s.addRoles(roles, nodes)
	for node := range nodes {
		s.Nodes = append(s.Nodes, node)
	}
	slices.Sort(s.Nodes)
	for i, w := range s.Writers {
		if len(w) > 1 {
			s.MultiWriterSpans = append(s.MultiWriterSpans, i)
		}
	}
	return s
}

// workloadPairs drops the final read phase, without copying.
func workloadPairs(all []history.Operation) []*history.Operation {
	out := make([]*history.Operation, 0, len(all))
	for i := range all {
		if all[i].Invoke.F != history.FinalRead {
			out = append(out, &all[i])
		}
	}
	return out
}

// axisEnd is the last moment a time plot must show, at least one bucket.
func axisEnd(pairs []*history.Operation, faults []results.FaultRecord, duration float64) float64 {
	end := 0.0
	for _, p := range pairs {
		end = max(end, results.Seconds(p.Invoke.Time), results.Seconds(p.Completion.Time))
	}
	for _, f := range faults {
		end = max(end, f.Requested)
		if f.Healed != nil {
			end = max(end, *f.Healed)
		}
	}
	if end == 0 {
		end = duration
	}
	if math.IsNaN(end) || math.IsInf(end, 0) {
		end = bucketSeconds
	}
	return max(end, bucketSeconds)
}

// bucketQuantiles is p50 and p99 of each bucket's latencies.
func bucketQuantiles(lat [][]float64) (p50, p99 []float64) {
	p50, p99 = make([]float64, len(lat)), make([]float64, len(lat))
	for i, xs := range lat {
		slices.Sort(xs)
		p50[i], p99[i] = checker.Quantile(xs, 0.50), checker.Quantile(xs, 0.99)
	}
	return p50, p99
}

// isWriteOp reports whether an operation kind changes state, so that its
// acknowledging node was the primary (or believed it was).
func isWriteOp(f history.Func) bool { return f == history.Write || f == history.CAS }

// faultWindows turns fault records into shaded windows; a fault never
// healed is shaded to the end of the axis.
func faultWindows(faults []results.FaultRecord, end float64) []svgplot.Window {
	out := make([]svgplot.Window, 0, len(faults))
	for _, f := range faults {
		to := end
		if f.Healed != nil {
			to = *f.Healed
		}
		label := fmt.Sprintf("fault %d: %s %s, %.2f s to %.2f s", f.ID, f.Kind, f.Target, f.Requested, to)
		out = append(out, svgplot.Window{Fault: f.ID, Label: label, From: f.Requested, To: to})
	}
	return out
}
