package store

import (
	"bytes"
	"strings"
)

// Op is what a log entry does to the store.
type Op string

// Log entry operations.
const (
	// OpNoop is the entry a new primary appends in its own epoch: once it is
	// committed, everything before it is too, so reads may be served.
	OpNoop Op = "noop"
	// OpPut sets a key.
	OpPut Op = "put"
	// OpCAS sets a key only if it holds If (an empty If means "absent").
	OpCAS Op = "cas"
)

// Entry is one record of the replicated log. Entries carry the epoch they
// were written in, which is how standbys find and drop a deposed primary's
// suffix.
type Entry struct {
	Index uint64 `json:"index"`
	Epoch uint64 `json:"epoch"`
	Op    Op     `json:"op"`
	Key   string `json:"key,omitempty"`
	Value []byte `json:"value,omitempty"`
	If    []byte `json:"if,omitempty"`
}

// applyResult is the outcome of applying one entry, handed to the client
// that proposed it.
type applyResult struct {
	ok bool // false: a compare-and-set found another value
}

// kvState is the state machine: the result of applying the committed prefix
// of the log in order. Every node applies the same entries the same way, so
// a compare-and-set is decided identically everywhere.
type kvState struct {
	m map[string][]byte
}

func newKVState() *kvState { return &kvState{m: map[string][]byte{}} }

func (s *kvState) apply(e Entry) applyResult {
	switch e.Op {
	case OpPut:
		s.m[e.Key] = e.Value
	case OpCAS:
		cur, ok := s.m[e.Key]
		if len(e.If) == 0 && ok || len(e.If) > 0 && (!ok || !bytes.Equal(cur, e.If)) {
			return applyResult{ok: false}
		}
		s.m[e.Key] = e.Value
	}
	return applyResult{ok: true}
}

func (s *kvState) get(key string) ([]byte, bool) {
	v, ok := s.m[key]
	return v, ok
}

// scan returns every key with the prefix and its value as a string.
func (s *kvState) scan(prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range s.m {
		if strings.HasPrefix(k, prefix) {
			out[k] = string(v)
		}
	}
	return out
}
