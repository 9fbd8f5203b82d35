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
	nodes []string
	mu    sync.Mutex
	// Data is the store's content, which a test may fill or read.
	Data map[string]string
	// Inject, when set, runs before every call; its error is returned
	// instead of acting.
	Inject func(node string, f history.Func, key string) error
}

func newScriptKV(nodes ...string) *scriptKV {
	return &scriptKV{nodes: nodes, Data: map[string]string{}}
}

func (s *scriptKV) Nodes() []string { return s.nodes }

func (s *scriptKV) check(node string, f history.Func, key string) error {
	if s.Inject == nil {
		return nil
	}
	return s.Inject(node, f, key)
}

func (s *scriptKV) Get(_ context.Context, node, key string) (string, bool, error) {
	if err := s.check(node, history.Read, key); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.Data[key]
	return v, ok, nil
}

func (s *scriptKV) Put(_ context.Context, node, key, value string) error {
	if err := s.check(node, history.Write, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Data[key] = value
	return nil
}

func (s *scriptKV) CAS(_ context.Context, node, key, from, to string) error {
	if err := s.check(node, history.CAS, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Data[key] != from {
		return ErrPrecondition
	}
	s.Data[key] = to
	return nil
}

func (s *scriptKV) Scan(_ context.Context, node, prefix string) (map[string]string, error) {
	if err := s.check(node, history.FinalRead, prefix); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.Data {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, nil
}
