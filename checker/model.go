package checker

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"

	"github.com/anishathalye/porcupine"
	"github.com/hadrill/hadrill/history"
)

// regOp is the input of one porcupine operation on the register model.
type regOp struct {
	f   history.Func // Read (final reads included), Write or CAS
	key string
	// from is a CAS's expected value; value is the written value, or for a
	// read the value it observed ("" = absent).
	from, value string
	// open marks an indeterminate write or CAS: it may or may not have
	// taken effect, so porcupine may place it anywhere after its call.
	open bool
	// final marks a read of the final read phase, only for descriptions.
	final bool
}

// regMeta is what the visualization shows about an operation beyond its
// input and output: where it came from in the recorded history.
type regMeta struct {
	process int
	node    string
	index   int64
}

// registerModel is the sequential specification porcupine checks against:
// one string register per key, absent ("") at the start. It is partitioned by
// key, because a key-value store is linearizable exactly when each key is,
// and checking keys apart keeps the search small and parallel.
//
// Its per-partition state is the register's value. Outputs are not used:
// failed operations never reach porcupine (they certainly did not happen), so
// every write and CAS that does is either acknowledged or open, and a read
// carries its observation in its input.
var registerModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return "" },
	Step:      stepRegister,
	Equal:     func(a, b any) bool { return a.(string) == b.(string) },
	Hash: func(state any) uint64 {
		h := fnv.New64a()
		h.Write([]byte(state.(string)))
		return h.Sum64()
	},
	DescribeOperation:         describeOp,
	DescribeState:             describeValue,
	DescribeOperationMetadata: describeMeta,
}

// stepRegister applies one operation to a register. An open CAS whose
// precondition does not hold is a legal no-op (the store would have answered
// 412), and one whose precondition holds may have swapped; porcupine covers
// "never happened" by placing the open operation after everything else.
func stepRegister(state, input, _ any) (bool, any) {
	s, in := state.(string), input.(regOp)
	switch in.f {
	case history.Read:
		return s == in.value, s
	case history.Write:
		return true, in.value
	case history.CAS:
		if s == in.from {
			return true, in.value
		}
		return in.open, s
	}
	return false, s
}

// partitionByKey splits the history into one partition per key, in key
// order, so that the partition numbers porcupine reports are reproducible.
func partitionByKey(ops []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range ops {
		k := op.Input.(regOp).key
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]porcupine.Operation, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

func describeValue(state any) string {
	if s := state.(string); s != "" {
		return strconv.Quote(s)
	}
	return "absent"
}

func describeOp(input, _ any) string {
	in := input.(regOp)
	var s string
	switch in.f {
	case history.Read:
		name := "read"
		if in.final {
			name = "final_read"
		}
		s = fmt.Sprintf("%s(%s) -> %s", name, in.key, describeValue(in.value))
	case history.Write:
		s = fmt.Sprintf("write(%s, %s)", in.key, describeValue(in.value))
	default:
		s = fmt.Sprintf("cas(%s, %s -> %s)", in.key, describeValue(in.from), describeValue(in.value))
	}
	if in.open {
		s += " ?"
	}
	return s
}

func describeMeta(meta any) string {
	m, ok := meta.(regMeta)
	if !ok {
		return ""
	}
	s := fmt.Sprintf("process %d, history index %d", m.process, m.index)
	if m.node != "" {
		s += ", node " + m.node
	}
	return s
}
