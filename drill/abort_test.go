package drill

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/scenarios"
)

// fakeClock is the run's clock (ns since the load started), moved by hand.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() int64               { return c.ns.Load() }
func (c *fakeClock) set(d time.Duration)      { c.ns.Store(int64(d)) }
func dur(d time.Duration) *scenarios.Duration { v := scenarios.Duration(d); return &v }

func testWatch(t *testing.T, a scenarios.Abort) (*abortWatch, *fakeClock) {
	t.Helper()
	clock := &fakeClock{}
	w := newAbortWatch(&a, clock.now)
	if w == nil {
		t.Fatal("no watch for an abort block with conditions")
	}
	w.wall = func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }
	return w, clock
}

func isTripped(w *abortWatch) bool {
	select {
	case <-w.Done():
		return true
	default:
		return false
	}
}

func TestNoAbortBlockGivesNoWatch(t *testing.T) {
	for _, a := range []*scenarios.Abort{nil, {}} {
		w := newAbortWatch(a, func() int64 { return 0 })
		if w != nil {
			t.Fatalf("watch for %+v", a)
		}
		// A nil watch is inert: none of these may panic or trip.
		w.sawRoles(int64(time.Hour), "")
		w.opDone(history.Op{Type: history.Fail, Time: int64(time.Hour)})
		w.run(context.Background())
		if w.Done() != nil || w.Tripped() != nil {
			t.Fatal("a nil watch tripped")
		}
	}
}

func TestNoPrimaryTripsAfterItsDurationWithoutAClaim(t *testing.T) {
	w, clock := testWatch(t, scenarios.Abort{NoPrimary: dur(10 * time.Second)})
	w.sawRoles(0, "n1")
	clock.set(3 * time.Second)
	w.sawRoles(int64(3*time.Second), "n1") // the last claim
	for _, s := range []time.Duration{4, 8, 12} {
		clock.set(s * time.Second)
		w.sawRoles(int64(s*time.Second), "")
		if isTripped(w) {
			t.Fatalf("tripped at %s, %s after the last claim", s*time.Second, (s-3)*time.Second)
		}
	}
	clock.set(13 * time.Second)
	w.mu.Lock()
	w.judgeNoPrimary(clock.now()) // the ticker's judgement, between samples
	w.mu.Unlock()
	if !isTripped(w) {
		t.Fatal("not tripped 10 s after the last claim")
	}
	a := w.Tripped()
	if a.Condition != scenarios.ConditionNoPrimary || a.At != 13 || !strings.Contains(a.Detail, "none since 3.00 s") {
		t.Errorf("tripped = %+v", a)
	}
}

func TestNoPrimaryWaitsForTheFirstRoleSample(t *testing.T) {
	// A system with no fixed primary never has its roles sampled: the
	// condition must not trip on the silence.
	w, clock := testWatch(t, scenarios.Abort{NoPrimary: dur(time.Second)})
	clock.set(time.Hour)
	w.mu.Lock()
	w.judgeNoPrimary(clock.now())
	w.mu.Unlock()
	if isTripped(w) {
		t.Fatal("tripped without a single role sample")
	}
}

func TestNoPrimaryCountsFromTheLoadStartWhenNoneWasEverSeen(t *testing.T) {
	w, clock := testWatch(t, scenarios.Abort{NoPrimary: dur(2 * time.Second)})
	clock.set(2 * time.Second)
	w.sawRoles(int64(2*time.Second), "")
	if a := w.Tripped(); a == nil || !strings.Contains(a.Detail, "since the load started") {
		t.Fatalf("tripped = %+v, want no_primary since the load started", a)
	}
}

// feed completes op once a second from second from to second to.
func feed(w *abortWatch, clock *fakeClock, from, to int, op history.Op) {
	for s := from; s < to; s++ {
		clock.set(time.Duration(s) * time.Second)
		op.Time = int64(clock.now())
		w.opDone(op)
	}
}

func TestAvailabilityTripsWhenTheWindowsServedShareFallsBelow(t *testing.T) {
	w, clock := testWatch(t, scenarios.Abort{Availability: &scenarios.AbortAvailability{Below: 0.5, Window: scenarios.Duration(10 * time.Second)}})
	ok := history.Op{Type: history.OK, F: history.Write}
	failed := history.Op{Type: history.Info, F: history.Write}
	// Failures from the start do not trip before a whole window passed.
	feed(w, clock, 0, 2, failed)
	if isTripped(w) {
		t.Fatal("tripped before a whole window of the load had passed")
	}
	feed(w, clock, 2, 12, ok)
	// A CAS refused on its precondition was served, as the check says;
	// invocations and final reads are not operations of the window.
	feed(w, clock, 12, 16, history.Op{Type: history.Fail, F: history.CAS, Error: history.Precondition})
	feed(w, clock, 16, 20, history.Op{Type: history.Invoke, F: history.Write})
	feed(w, clock, 16, 20, history.Op{Type: history.Fail, F: history.FinalRead})
	if isTripped(w) {
		t.Fatalf("tripped on served operations: %+v", w.Tripped())
	}
	// Window [t-10s, t]: at t=22 it holds the served 12..15 and the
	// failed 20..22 (4 of 7); at t=23 the served 13..15 and the failed
	// 20..23: 3 of 7, 0.43 < 0.5.
	feed(w, clock, 20, 26, failed)
	a := w.Tripped()
	if a == nil || a.Condition != scenarios.ConditionAvailability {
		t.Fatalf("tripped = %+v, want availability", a)
	}
	if a.At != 23 || !strings.Contains(a.Detail, "3 of 7 operations served in the last 10s (0.429 < 0.5)") {
		t.Errorf("tripped = %+v, want at 23 s with 3 of 7 served", a)
	}
}

func TestProbeTripsOnlyOnFailuresInARow(t *testing.T) {
	w, clock := testWatch(t, scenarios.Abort{Probe: &scenarios.Probe{Command: "check", Interval: scenarios.Duration(time.Second), Failures: 3}})
	down := errors.New("connection refused")
	for i, err := range []error{down, down, nil, down, down} {
		clock.set(time.Duration(i) * time.Second)
		w.probeDone(err)
	}
	if isTripped(w) {
		t.Fatal("tripped on failures that a success interrupted")
	}
	clock.set(5 * time.Second)
	w.probeDone(down)
	a := w.Tripped()
	if a == nil || a.Condition != scenarios.ConditionProbe || a.At != 5 ||
		!strings.Contains(a.Detail, `command "check" failed 3 times in a row`) || !strings.Contains(a.Detail, "connection refused") {
		t.Fatalf("tripped = %+v", a)
	}
}

func TestFirstConditionToTripIsTheOneRecorded(t *testing.T) {
	w, clock := testWatch(t, scenarios.Abort{NoPrimary: dur(time.Second),
		Probe: &scenarios.Probe{Command: "check", Interval: scenarios.Duration(time.Second), Failures: 1}})
	clock.set(2 * time.Second)
	w.probeDone(errors.New("down"))
	w.sawRoles(clock.now(), "")
	if a := w.Tripped(); a == nil || a.Condition != scenarios.ConditionProbe {
		t.Fatalf("tripped = %+v, want the probe", a)
	}
}

func TestProbeLoopProbesAtEachTickUntilItTrips(t *testing.T) {
	w, _ := testWatch(t, scenarios.Abort{Probe: &scenarios.Probe{Command: "check",
		Interval: scenarios.Duration(time.Second), Timeout: scenarios.Duration(time.Second), Failures: 2}})
	var probes atomic.Int32
	w.probe = func(context.Context) error { probes.Add(1); return errors.New("down") }
	tick := make(chan time.Time)
	stopped := make(chan struct{})
	go func() { w.runProbe(context.Background(), tick); close(stopped) }()
	tick <- time.Time{} // the first probe ran at once; this starts the second
	<-w.Done()
	<-stopped
	if n := probes.Load(); n != 2 {
		t.Errorf("%d probes, want 2 (failures: 2)", n)
	}
}

func TestHTTPProbeFailsOnAnythingButTwoHundreds(t *testing.T) {
	status := atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte("replica lag too high\n"))
	}))
	defer srv.Close()
	probe := newProbe(scenarios.Probe{HTTP: srv.URL + "/health"})
	status.Store(http.StatusNoContent)
	if err := probe(context.Background()); err != nil {
		t.Errorf("204: %v", err)
	}
	status.Store(http.StatusServiceUnavailable)
	if err := probe(context.Background()); err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "replica lag too high") {
		t.Errorf("503: %v, want an error with the status and the answer", err)
	}
	srv.Close()
	if err := probe(context.Background()); err == nil {
		t.Error("a closed server passed the probe")
	}
}

func TestCommandProbeFailsOnANonZeroExitOrTheTimeout(t *testing.T) {
	if err := newProbe(scenarios.Probe{Command: "true"})(context.Background()); err != nil {
		t.Errorf("true: %v", err)
	}
	err := newProbe(scenarios.Probe{Command: "echo starting; echo no quorum >&2; exit 3"})(context.Background())
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "no quorum") {
		t.Errorf("exit 3: %v, want the status and the last line of output", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := newProbe(scenarios.Probe{Command: "sleep 30"})(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a probe past its timeout: %v, want a deadline error", err)
	}
}

func TestWatchedSinkPassesEveryRecordOn(t *testing.T) {
	w, _ := testWatch(t, scenarios.Abort{Availability: &scenarios.AbortAvailability{Below: 0.5, Window: scenarios.Duration(time.Second)}})
	var got []any
	sink := watchOps(sinkFunc(func(v any) error { got = append(got, v); return nil }), w)
	op := history.Op{Type: history.OK, F: history.Write, Time: 5}
	if err := sink.Append(op); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != any(op) || len(w.marks) != 1 {
		t.Errorf("passed on %v, watched %d operations", got, len(w.marks))
	}
}

type sinkFunc func(any) error

func (f sinkFunc) Append(v any) error { return f(v) }

func TestAbortedReportNamesTheConditionAndRanksWithFail(t *testing.T) {
	rep := checker.Report{Verdict: checker.Pass, Checks: map[string]checker.Check{checker.CheckRTO: {Result: checker.Pass}}}
	a := &results.Abort{Condition: scenarios.ConditionNoPrimary, At: 13.2, Detail: "no node claimed primary for 10s"}
	aborted(&rep, a)
	if rep.Verdict != results.Aborted || results.Outcome(rep.Verdict) != checker.Fail {
		t.Errorf("verdict %q (counts as %q), want aborted ranking with fail", rep.Verdict, results.Outcome(rep.Verdict))
	}
	c := rep.Checks[CheckAbort]
	if c.Result != checker.Fail || !strings.Contains(c.Detail, "no_primary at 13.20 s: no node claimed primary for 10s") {
		t.Errorf("abort check = %+v", c)
	}
	if rep.Checks[checker.CheckRTO].Result != checker.Pass {
		t.Error("the other checks lost their own results")
	}
	// A machine that broke makes it unknown all the same.
	environment(&rep, []results.EnvFinding{{Kind: results.EnvContainer, Node: "n1", Detail: "gone"}})
	if rep.Verdict != checker.Unknown {
		t.Errorf("verdict with an environment finding = %q, want unknown", rep.Verdict)
	}
	none := checker.Report{Verdict: checker.Pass}
	if aborted(&none, nil); none.Verdict != checker.Pass || len(none.Checks) != 0 {
		t.Errorf("no abort changed the report: %+v", none)
	}
}
