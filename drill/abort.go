package drill

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/scenarios"
)

// CheckAbort is the check that says an abort condition stopped the drill.
// It is present only then, as a failure naming the condition, so that
// JUnit, the summary and the report show it with the other checks.
const CheckAbort = "abort"

// aborted applies a tripped abort condition to a report: the "abort" check
// fails, naming the condition, and the verdict is aborted whatever the
// other checks found. They keep their own results over what was recorded
// until the abort; the environment rule (applied after this) still makes a
// broken machine's verdict unknown.
func aborted(rep *checker.Report, a *results.Abort) {
	if a == nil {
		return
	}
	if rep.Checks == nil {
		rep.Checks = map[string]checker.Check{}
	}
	rep.Checks[CheckAbort] = checker.Check{Result: checker.Fail, Detail: "the drill aborted: " + a.String()}
	rep.Verdict = results.Aborted
}

// watchEvery is how often the time-based conditions are judged between
// the events that feed them.
const watchEvery = 250 * time.Millisecond

// abortWatch judges the scenario's abort conditions while the load runs.
// It is fed by the role sampler (sawRoles), the history sink (opDone) and
// its own probe, and it judges in the run's time base (ns since the load
// started), read from now, so that tests can drive it with a fake clock.
// Done is closed when a condition trips; the first one to trip is the one
// recorded. A nil *abortWatch (a scenario without abort:) never trips.
type abortWatch struct {
	cond  scenarios.Abort
	now   func() int64
	wall  func() time.Time
	probe func(ctx context.Context) error // nil without a probe

	mu sync.Mutex
	// rolesSeen is set by the first role sample: a system the sampler
	// cannot ask (no fixed primary) never arms no_primary.
	rolesSeen   bool
	lastPrimary int64 // when a node last claimed primary; 0: the load's start
	marks       []opMark
	served      int // served operations among marks
	probeFails  int // probe failures in a row
	tripped     *results.Abort
	done        chan struct{}
}

// opMark is one completed operation in the availability window.
type opMark struct {
	time   int64
	served bool
}

// newAbortWatch returns the watch for a scenario's abort block, nil when it
// names no condition. now is the history's clock.
func newAbortWatch(a *scenarios.Abort, now func() int64) *abortWatch {
	if len(a.Conditions()) == 0 {
		return nil
	}
	w := &abortWatch{cond: *a, now: now, wall: time.Now, done: make(chan struct{})}
	if a.Probe != nil {
		w.probe = newProbe(*a.Probe)
	}
	return w
}

// Done is closed when a condition trips.
func (w *abortWatch) Done() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.done
}

// Tripped is the condition that tripped, nil while none has.
func (w *abortWatch) Tripped() *results.Abort {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tripped == nil {
		return nil
	}
	a := *w.tripped
	return &a
}

// trip records the first condition to trip and closes Done. The caller
// holds mu.
func (w *abortWatch) trip(condition string, at int64, detail string) {
	if w.tripped != nil {
		return
	}
	w.tripped = &results.Abort{Condition: condition, At: results.Seconds(at), Time: w.wall().UTC(), Detail: detail}
	slog.Warn("abort condition tripped: stopping the faults and the load", "condition", condition, "detail", detail)
	close(w.done)
}

// sawRoles takes one role sample: at time t the system named primary
// ("" for none).
func (w *abortWatch) sawRoles(t int64, primary string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rolesSeen = true
	if primary != "" {
		w.lastPrimary = max(w.lastPrimary, t)
	}
	w.judgeNoPrimary(w.now())
}

// judgeNoPrimary trips no_primary when no node has claimed the role for
// its duration by now. The caller holds mu.
func (w *abortWatch) judgeNoPrimary(now int64) {
	if w.cond.NoPrimary == nil || !w.rolesSeen {
		return
	}
	limit := w.cond.NoPrimary.Std()
	if time.Duration(now-w.lastPrimary) < limit {
		return
	}
	since := "since the load started"
	if w.lastPrimary > 0 {
		since = fmt.Sprintf("none since %.2f s", results.Seconds(w.lastPrimary))
	}
	w.trip(scenarios.ConditionNoPrimary, now, fmt.Sprintf("no node claimed primary for %s (%s)", limit, since))
}

// opDone takes one history record; completed workload operations feed the
// availability window. Served is the availability check's own definition
// (history.Op.Served), and final reads are left out as the check leaves
// them out.
func (w *abortWatch) opDone(op history.Op) {
	if w == nil || w.cond.Availability == nil || op.Type == history.Invoke || op.F == history.FinalRead {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	m := opMark{time: op.Time, served: op.Served()}
	w.marks = append(w.marks, m)
	if m.served {
		w.served++
	}
	w.judgeAvailability(max(op.Time, w.now()))
}

// judgeAvailability drops the operations that left the window and trips
// availability when the served share of those left is below the level.
// It judges only once a whole window of the load has passed, so the first
// few operations cannot trip it alone. The caller holds mu.
func (w *abortWatch) judgeAvailability(now int64) {
	av := w.cond.Availability
	if av == nil {
		return
	}
	from := now - int64(av.Window.Std())
	i := 0
	for ; i < len(w.marks) && w.marks[i].time < from; i++ {
		if w.marks[i].served {
			w.served--
		}
	}
	w.marks = w.marks[i:]
	if from < 0 || len(w.marks) == 0 {
		return
	}
	if share := float64(w.served) / float64(len(w.marks)); share < av.Below {
		w.trip(scenarios.ConditionAvailability, now, fmt.Sprintf("%d of %d operations served in the last %s (%.3f < %g)",
			w.served, len(w.marks), av.Window, share, av.Below))
	}
}

// probeDone takes the outcome of one probe.
func (w *abortWatch) probeDone(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		w.probeFails = 0
		return
	}
	w.probeFails++
	slog.Info("abort probe failed", "failures in a row", w.probeFails, "err", err)
	if p := w.cond.Probe; w.probeFails >= p.Failures {
		w.trip(scenarios.ConditionProbe, w.now(), fmt.Sprintf("%s failed %d times in a row, every %s; last: %v",
			p.Describe(), w.probeFails, p.Interval, err))
	}
}

// run judges the time-based conditions every watchEvery and runs the
// probe every interval, until ctx ends or a condition trips.
func (w *abortWatch) run(ctx context.Context) {
	if w == nil {
		return
	}
	var wg sync.WaitGroup
	if w.probe != nil {
		t := time.NewTicker(w.cond.Probe.Interval.Std())
		defer t.Stop()
		wg.Go(func() { w.runProbe(ctx, t.C) })
	}
	defer wg.Wait()
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.done:
			return
		case <-t.C:
		}
		w.mu.Lock()
		now := w.now()
		w.judgeNoPrimary(now)
		w.judgeAvailability(now)
		w.mu.Unlock()
	}
}

// runProbe probes at once and then at each tick, one probe at a time, each
// bounded by the probe's timeout, until ctx ends or a condition trips.
func (w *abortWatch) runProbe(ctx context.Context, tick <-chan time.Time) {
	for {
		pctx, cancel := context.WithTimeout(ctx, w.cond.Probe.Timeout.Std())
		err := w.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return // cut short by the end of the load: says nothing
		}
		w.probeDone(err)
		select {
		case <-ctx.Done():
			return
		case <-w.done:
			return
		case <-tick:
		}
	}
}

// watchOps passes every record on to sink and shows the operations to w.
func watchOps(sink interface{ Append(any) error }, w *abortWatch) interface{ Append(any) error } {
	if w == nil || w.cond.Availability == nil {
		return sink
	}
	return watchedSink{sink: sink, w: w}
}

type watchedSink struct {
	sink interface{ Append(any) error }
	w    *abortWatch
}

func (s watchedSink) Append(v any) error {
	err := s.sink.Append(v)
	if op, ok := v.(history.Op); ok {
		s.w.opDone(op)
	}
	return err
}
