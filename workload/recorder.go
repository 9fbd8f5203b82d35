package workload

import (
	"fmt"
	"sync"
	"time"

	"github.com/hadrill/hadrill/history"
)

// Sink receives history events as they happen. *history.Writer is one: it
// appends a JSON line per event and flushes it, so a crash leaves a checkable
// prefix.
type Sink interface {
	Append(v any) error
}

// Recorder stamps history events and hands them to a Sink. It does not keep
// them: the history file is the single record of a run, and the checkers read
// it back, which is also what `hadrill check` does offline, so the run and the
// re-check see the same bytes. Callers that want the events in memory pass a
// Sink that keeps them.
//
// Index and Time are assigned under the same lock that appends, so the order
// of the lines is the Index order and Time never decreases along the file.
// The Sink serialises appends anyway, so this lock adds no contention of its
// own; an atomic index taken outside it would let lines land out of order.
type Recorder struct {
	start time.Time // carries the monotonic reading all Times derive from

	mu   sync.Mutex
	sink Sink
	next int64
	err  error
}

// NewRecorder returns a recorder whose times are nanoseconds since start.
// start must come from time.Now (so it carries a monotonic reading) and be
// the same for every recorder of the run, so faults and ops share one base.
func NewRecorder(sink Sink, start time.Time) *Recorder {
	return &Recorder{sink: sink, start: start}
}

// Now is the current time in the run's time base.
func (r *Recorder) Now() int64 { return int64(time.Since(r.start)) }

// Invoke records op as an invocation: it sets Type, Index and Time, and
// appends it. Call it just before sending the request, so the invocation
// time is never later than the operation's real start.
func (r *Recorder) Invoke(op *history.Op) error {
	op.Type = history.Invoke
	op.Error = ""
	op.Node = ""
	return r.append(op)
}

// Complete records the completion of an invoked op: op.Type must be OK, Fail
// or Info. Index and Time are set here, after the answer arrived, so the
// completion time is never earlier than the operation's real end.
func (r *Recorder) Complete(op *history.Op) error {
	if op.Type == history.Invoke || op.Type == "" {
		return fmt.Errorf("complete op of process %d: type %q is not a completion", op.Process, op.Type)
	}
	return r.append(op)
}

// Err returns the first append error, which is sticky: a history with a hole
// in it cannot be checked, so every later event is refused too.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *Recorder) append(op *history.Op) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	op.Index = r.next
	op.Time = int64(time.Since(r.start))
	if err := r.sink.Append(*op); err != nil {
		r.err = fmt.Errorf("record op %d: %w", op.Index, err)
		return r.err
	}
	r.next++
	return nil
}
