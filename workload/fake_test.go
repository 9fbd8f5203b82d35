package workload

import (
	"context"
	"strings"
	"sync"

	"github.com/hadrill/hadrill/history"
)

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
