// Package history is the data every other part of hadrill shares: the client
// operations of a run and the faults injected into it, and their JSONL codec.
//
// It is a leaf package: it imports nothing of the project, so the recorder,
// the checkers and the reports can all depend on it without cycles.
package history

import "strings"

// Type is the outcome class of an event. The meanings are Jepsen's: Fail is a
// definite "did not happen", Info is indeterminate (a timeout: the operation
// may or may not have taken effect).
type Type string

// The four event types.
const (
	Invoke Type = "invoke"
	OK     Type = "ok"
	Fail   Type = "fail"
	Info   Type = "info"
)

// Func names an operation kind.
type Func string

// Operation kinds. Ledger writes use Write on a key with LedgerPrefix; the
// final read phase uses FinalRead so that offline checks can tell it apart
// from the workload's own reads.
const (
	Read      Func = "read"
	Write     Func = "write"
	CAS       Func = "cas"
	FinalRead Func = "final_read"
)

// LedgerPrefix starts every write-once ledger key (ledger-<process>-<seq>).
// Nothing ever overwrites such a key, so a missing one at the end is a lost
// write (docs/DESIGN.md, RPO).
const LedgerPrefix = "ledger-"

// Op is one event of the history: an invocation or its completion. An
// invocation and its completion share Process, F and Key; completions follow
// their invocation in Index order, and each process has at most one open
// invocation at a time.
//
// Value is the written value for writes and CAS (the new value), and the
// observed value for a completed read. The empty string means "absent": the
// workload never writes an empty value, so the two cannot be confused.
type Op struct {
	Index   int64  `json:"index"`
	Process int    `json:"process"`
	Type    Type   `json:"type"`
	F       Func   `json:"f"`
	Key     string `json:"key"`
	Value   string `json:"value,omitempty"`
	// From is the expected current value of a compare-and-set.
	From string `json:"from,omitempty"`
	// Time is nanoseconds since the run's start, from one monotonic clock.
	Time int64 `json:"time"`
	// Node is the node that answered, when known.
	Node string `json:"node,omitempty"`
	// Error describes a fail or info outcome.
	Error string `json:"error,omitempty"`
}

// Precondition is the exact Error of a compare-and-set that failed because
// the key held another value (HTTP 412 for hakv). The store answered, so the
// operation counts as served for availability and recovery time, although
// it certainly did not take effect (Type Fail).
const Precondition = "precondition failed"

// Served reports whether a completion is an answer from a working store:
// ok, or a compare-and-set that found another value.
func (o Op) Served() bool {
	return o.Type == OK || (o.Type == Fail && o.F == CAS && o.Error == Precondition)
}

// IsLedger reports whether the op is on a write-once ledger key.
func (o Op) IsLedger() bool {
	return strings.HasPrefix(o.Key, LedgerPrefix)
}

// Operation is an invocation paired with its completion. Completion is the
// zero Op (Type "") when the run ended before the operation returned; such an
// operation is indeterminate.
type Operation struct {
	Invoke     Op
	Completion Op
}

// Outcome is the completion type, or Info when the operation never completed.
func (o Operation) Outcome() Type {
	if o.Completion.Type == "" {
		return Info
	}
	return o.Completion.Type
}
