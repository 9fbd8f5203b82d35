package checker

import (
	"fmt"
	"strconv"

	"github.com/anishathalye/porcupine"
	"github.com/hadrill/hadrill/history"
)

// registerModel is the sequential specification porcupine checks against:
// one string register per key, absent ("") at the start. It is partitioned by
// key, because a key-value store is linearizable exactly when each key is,
// and checking keys apart keeps the search small and parallel (porcupine
// checks partitions on every core).
//
// An operation's input is a pointer to its paired history operation, so
// that nothing is copied or boxed per operation; its output is its regKind,
// decided once (the completion is in the pair). The state is a *string
// pointing at the value written last, so that a step allocates nothing.
// There is no Hash: porcupine's cache key is then the linearized set alone,
// as in porcupine's own key-value models, and hashing the value on every
// cache probe cost more than the few Equal calls it saved.
//
// Partition relies on operations (which builds the history) having grouped
// the operations by key already, keys in order of first appearance (an
// order fixed by the history, and cheaper than sorting the keys, of which a
// ledger workload has one per write): it only cuts the slice where
// the key changes, and so the partition numbers porcupine reports are
// reproducible. Linearizability hands porcupine the cut operations made
// instead, so the slice is not walked twice.
var registerModel = porcupine.Model{
	Partition:                 cutByKey,
	Init:                      func() any { return &absent },
	Step:                      stepRegister,
	Equal:                     func(a, b any) bool { return *a.(*string) == *b.(*string) },
	DescribeOperation:         describeOp,
	DescribeState:             func(state any) string { return describeValue(*state.(*string)) },
	DescribeOperationMetadata: describeMeta,
}

// absent is the register's initial value.
var absent = ""

// regKind is what an operation does to its register, decided once per
// operation by operations and passed to porcupine as the operation's
// output, so that a step switches on a small integer instead of comparing
// the history's function, type and error strings (boxing a one-byte value
// in an interface does not allocate).
type regKind uint8

const (
	regRead    regKind = iota // a read that completed ok
	regWrite                  // a write, acknowledged or open
	regCAS                    // an acknowledged CAS
	regOpenCAS                // an indeterminate CAS
	regRefused                // a CAS answered 412
)

// kindOf classifies an operation that porcupine is told about (see checked).
func kindOf(p *history.Operation) regKind {
	switch {
	case p.Invoke.F == history.Read || p.Invoke.F == history.FinalRead:
		return regRead
	case p.Invoke.F == history.Write:
		return regWrite
	case refused(p):
		return regRefused
	case p.Outcome() == history.OK:
		return regCAS
	}
	return regOpenCAS
}

// stepRegister applies one operation to a register:
//   - a read must observe the register's value;
//   - a write sets it;
//   - an acknowledged CAS must find its expected value, and swaps;
//   - a CAS answered 412 (history.Precondition) happened too, and is legal
//     only where the register held another value, as in porcupine's own
//     etcd model: a store that answers 412 while the value matched is
//     caught;
//   - an open (indeterminate) CAS whose expected value does not hold is a
//     legal no-op, and one whose expected value holds may have swapped;
//     porcupine covers "never happened" by placing it after everything.
//
// output is the operation's regKind (see operations).
func stepRegister(state, input, output any) (bool, any) {
	s, p := state.(*string), input.(*history.Operation)
	inv := &p.Invoke
	switch output.(regKind) {
	case regRead:
		return *s == p.Completion.Value, s
	case regWrite:
		return true, &inv.Value
	case regRefused:
		return *s != inv.From, s
	case regCAS, regOpenCAS:
		if *s == inv.From {
			return true, &inv.Value
		}
		return output.(regKind) == regOpenCAS, s
	}
	return false, s
}

// refused reports whether an operation is a CAS answered 412: served, with
// no effect, as evidence that the value differed from the expected one.
func refused(p *history.Operation) bool {
	return p.Invoke.F == history.CAS && p.Completion.Type == history.Fail && p.Completion.Served()
}

// cutByKey splits operations grouped by key into one partition per key,
// as sub-slices (no copy).
func cutByKey(ops []porcupine.Operation) [][]porcupine.Operation {
	var out [][]porcupine.Operation
	start := 0
	for i := 1; i <= len(ops); i++ {
		if i == len(ops) || opKey(ops[i]) != opKey(ops[start]) {
			out = append(out, ops[start:i:i])
			start = i
		}
	}
	return out
}

// opKey is the key of a porcupine operation built by operations.
func opKey(op porcupine.Operation) string { return op.Input.(*history.Operation).Invoke.Key }

func describeValue(s string) string {
	if s != "" {
		return strconv.Quote(s)
	}
	return "absent"
}

// describeOp names an operation as the visualization and Detail show it:
// "?" marks an indeterminate write or CAS, "412" a CAS refused because
// the value differed.
func describeOp(input, _ any) string {
	p := input.(*history.Operation)
	in := &p.Invoke
	var s string
	switch in.F {
	case history.Read, history.FinalRead:
		s = fmt.Sprintf("%s(%s) -> %s", in.F, in.Key, describeValue(p.Completion.Value))
	case history.Write:
		s = fmt.Sprintf("write(%s, %s)", in.Key, describeValue(in.Value))
	default:
		s = fmt.Sprintf("cas(%s, %s -> %s)", in.Key, describeValue(in.From), describeValue(in.Value))
	}
	switch {
	case refused(p):
		s += " = 412"
	case in.F != history.Read && in.F != history.FinalRead && p.Outcome() != history.OK:
		s += " ?"
	}
	return s
}

func describeMeta(meta any) string {
	p, ok := meta.(*history.Operation)
	if !ok {
		return ""
	}
	s := fmt.Sprintf("process %d, history index %d", p.Invoke.Process, p.Invoke.Index)
	if p.Completion.Node != "" {
		s += ", node " + p.Completion.Node
	}
	return s
}
