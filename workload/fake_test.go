package workload

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/hadrill/hadrill/history"
)

// memSink keeps every event, for tests.
type memSink struct {
	mu  sync.Mutex
	ops []history.Op
	err error
}

func (m *memSink) Append(v any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.ops = append(m.ops, v.(history.Op))
	return nil
}

func (m *memSink) all() []history.Op {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]history.Op(nil), m.ops...)
}

// scriptKV is an in-memory KV whose failures a test scripts: inject runs
// before every call and its error, if any, is returned instead of acting.
type scriptKV struct {
	nodes  []string
	mu     sync.Mutex
	data   map[string]string
	inject func(node string, f history.Func, key string) error
}

func newScriptKV(nodes ...string) *scriptKV {
	return &scriptKV{nodes: nodes, data: map[string]string{}}
}

func (s *scriptKV) Nodes() []string { return s.nodes }

func (s *scriptKV) check(node string, f history.Func, key string) error {
	if s.inject == nil {
		return nil
	}
	return s.inject(node, f, key)
}

func (s *scriptKV) Get(_ context.Context, node, key string) (string, bool, error) {
	if err := s.check(node, history.Read, key); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	return v, ok, nil
}

func (s *scriptKV) Put(_ context.Context, node, key, value string) error {
	if err := s.check(node, history.Write, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = value
	return nil
}

func (s *scriptKV) CAS(_ context.Context, node, key, from, to string) error {
	if err := s.check(node, history.CAS, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data[key] != from {
		return ErrPrecondition
	}
	s.data[key] = to
	return nil
}

func (s *scriptKV) Scan(_ context.Context, node, prefix string) (map[string]string, error) {
	if err := s.check(node, history.FinalRead, prefix); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.data {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, nil
}

// checkSequential asserts the history invariants every checker relies on:
// lines in Index order with no gaps, Time never decreasing, at most one open
// operation per process, and each completion matching its invocation.
func checkSequential(t *testing.T, ops []history.Op) {
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
