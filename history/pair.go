package history

import "fmt"

// Pair matches invocations with completions by process. Invocations that never
// completed are returned with an empty Completion. The result is ordered by
// invocation index. It is Pairer over a slice.
func Pair(ops []Op) []Operation {
	p := NewPairer(len(ops)/2 + 1)
	for i := range ops {
		p.Add(&ops[i])
	}
	out, _ := p.Result()
	return out
}

// Pairer pairs a history one event at a time, so that a reader can pair
// while it decodes and never hold the unpaired events and the pairs at once.
// While it pairs, it checks the recorder's contract, the way etcd's
// robustness tests validate before they check: every completion answers an
// open invocation of the same process, function and key, no earlier than it
// was invoked; a process has at most one open invocation; and a process
// that got an indeterminate answer is retired. The first violation is kept
// (see Result); pairing goes on regardless, as Pair always did: an
// invocation while one is open leaves the earlier one unanswered, and a
// completion with no open invocation is dropped.
type Pairer struct {
	out     []Operation
	open    openTable     // process -> position in out
	retired map[int]int64 // process -> index of its info completion
	err     error
}

// NewPairer returns a Pairer with room for about n operations.
func NewPairer(n int) *Pairer {
	return &Pairer{out: make([]Operation, 0, max(n, 0)), open: openTable{big: map[int]int{}}, retired: map[int]int64{}}
}

// Add takes the next event in history order.
func (p *Pairer) Add(op *Op) {
	if p.err == nil {
		p.err = p.check(op)
	}
	if op.Type == Invoke {
		p.open.set(op.Process, len(p.out))
		p.out = append(p.out, Operation{Invoke: *op})
		return
	}
	i, ok := p.open.get(op.Process)
	if !ok {
		return
	}
	p.out[i].Completion = *op
	p.open.del(op.Process)
	if op.Type == Info {
		p.retired[op.Process] = op.Index
	}
}

// Result returns the operations in invocation order and the first breach
// of the recorder's contract, nil when there was none. A history that
// breaks the contract cannot be trusted to mean what a checker would be
// told.
func (p *Pairer) Result() ([]Operation, error) { return p.out, p.err }

// check tests op against the contract, given the events before it.
func (p *Pairer) check(op *Op) error {
	switch op.F {
	case Read, Write, CAS, FinalRead:
	default:
		return fmt.Errorf("index %d: unknown operation %q", op.Index, op.F)
	}
	if op.Type == Invoke {
		if i, ok := p.open.get(op.Process); ok {
			return fmt.Errorf("index %d: process %d invoked again while index %d was open", op.Index, op.Process, p.out[i].Invoke.Index)
		}
		if at, ok := p.retired[op.Process]; ok {
			return fmt.Errorf("index %d: process %d invoked again after an indeterminate result at index %d", op.Index, op.Process, at)
		}
		return nil
	}
	switch op.Type {
	case OK, Fail, Info:
	default:
		return fmt.Errorf("index %d: unknown event type %q", op.Index, op.Type)
	}
	i, ok := p.open.get(op.Process)
	if !ok {
		return fmt.Errorf("index %d: %s of process %d, which has no open invocation", op.Index, op.Type, op.Process)
	}
	switch inv := &p.out[i].Invoke; {
	case inv.F != op.F || inv.Key != op.Key:
		return fmt.Errorf("index %d: %s %s(%s) completes %s(%s) invoked at index %d", op.Index, op.Type, op.F, op.Key, inv.F, inv.Key, inv.Index)
	case op.Time < inv.Time:
		return fmt.Errorf("index %d: completes before its invocation at index %d", op.Index, inv.Index)
	}
	return nil
}

// openTable maps a process to the position of its open invocation. Recorders
// number processes densely from 0, so a slice serves them without hashing;
// other numbers go to a map.
type openTable struct {
	small []int // position+1; 0 = none
	big   map[int]int
}

// smallProcesses bounds the slice part of an openTable.
const smallProcesses = 1 << 16

func (t *openTable) get(process int) (int, bool) {
	if uint(process) < uint(len(t.small)) {
		v := t.small[process]
		return v - 1, v > 0
	}
	v, ok := t.big[process]
	return v, ok
}

func (t *openTable) set(process, pos int) {
	if process >= 0 && process < smallProcesses {
		if process >= len(t.small) {
			t.small = append(t.small, make([]int, process+1-len(t.small))...)
		}
		t.small[process] = pos + 1
		return
	}
	t.big[process] = pos
}

func (t *openTable) del(process int) {
	if uint(process) < uint(len(t.small)) {
		t.small[process] = 0
		return
	}
	delete(t.big, process)
}
