// Package workloadtest holds the test helpers shared by the workload
// engine's tests and the systems' client tests: an in-memory history sink,
// a short run of the engine over a KV, and the checks of what it recorded.
//
// It imports workload, so workload's own tests that use it are an external
// test package (workload_test). The helpers every test shares, whatever it
// drives, are in internal/testsupport.
package workloadtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/workload"
)

// MemSink keeps every event in memory. Fail makes every later Append
// return err, as a full disk would.
type MemSink struct {
	mu  sync.Mutex
	ops []history.Op
	err error
}

// Append records one event, or returns the error set by Fail.
func (m *MemSink) Append(v any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.ops = append(m.ops, v.(history.Op))
	return nil
}

// Fail makes every later Append return err.
func (m *MemSink) Fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

// All returns a copy of the events recorded so far.
func (m *MemSink) All() []history.Op {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]history.Op(nil), m.ops...)
}

// CheckSequential asserts the history invariants every checker relies on:
// lines in Index order with no gaps, Time never decreasing, at most one open
// operation per process, and each completion matching its invocation.
func CheckSequential(t testing.TB, ops []history.Op) {
	t.Helper()
	open := map[int]history.Op{}
	for i, op := range ops {
		if op.Index != int64(i) {
			t.Fatalf("line %d has index %d", i, op.Index)
		}
		if i > 0 && op.Time < ops[i-1].Time {
			t.Fatalf("index %d: time %d before previous %d", i, op.Time, ops[i-1].Time)
		}
		inv, isOpen := open[op.Process]
		switch {
		case op.Type == history.Invoke && isOpen:
			t.Fatalf("index %d: process %d invokes with op %d still open", i, op.Process, inv.Index)
		case op.Type == history.Invoke:
			open[op.Process] = op
		case !isOpen:
			t.Fatalf("index %d: completion for process %d with nothing open", i, op.Process)
		case inv.F != op.F || inv.Key != op.Key:
			t.Fatalf("index %d: completion %s %s does not match invocation %s %s", i, op.F, op.Key, inv.F, inv.Key)
		default:
			delete(open, op.Process)
		}
	}
}

// RunFor runs a workload.Runner over kv with cfg (for cfg.Duration) and
// returns it with the events it recorded and its final stats, failing the
// test if the run returns an error.
func RunFor(t testing.TB, kv workload.KV, cfg workload.Config) (*workload.Runner, []history.Op, workload.Stats) {
	t.Helper()
	sink := &MemSink{}
	r := workload.NewRunner(kv, workload.NewRecorder(sink, time.Now()))
	st, err := r.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return r, sink.All(), st
}

// Completions returns the events of ops that are not invocations: the
// outcomes (ok, fail, info), in order.
func Completions(ops []history.Op) []history.Op {
	var out []history.Op
	for _, op := range ops {
		if op.Type != history.Invoke {
			out = append(out, op)
		}
	}
	return out
}
