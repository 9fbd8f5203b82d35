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
// (see Result) as a *LineError naming the event's line and the field at
// fault; pairing goes on regardless, as Pair always did: an invocation while
// one is open leaves the earlier one unanswered, and a completion with no
// open invocation is dropped.
type Pairer struct {
	out     []Operation
	open    openTable     // process -> its open invocation and last completion
	retired map[int]event // process -> its info completion
	events  int           // events added so far
	lines   bool          // AddLine gave file lines, so say "line", not "event"
	err     error
}

// event places one event of a history: its line (or position, see
// LineError) and its index.
type event struct {
	line  int
	index int64
}

// NewPairer returns a Pairer with room for about n operations.
func NewPairer(n int) *Pairer {
	return &Pairer{out: make([]Operation, 0, max(n, 0)), open: openTable{big: map[int]slot{}}, retired: map[int]event{}}
}

// Add takes the next event in history order. A breach of the contract is
// placed by the event's 1-based position (see LineError).
func (p *Pairer) Add(op *Op) { p.add(op, p.events+1) }

// AddLine is Add for an event read from line of a file, so that a breach
// of the contract names that line; the caller sets the LineError's File.
func (p *Pairer) AddLine(op *Op, line int) {
	p.lines = true
	p.add(op, line)
}

func (p *Pairer) add(op *Op, line int) {
	p.events++
	s, _ := p.open.get(op.Process)
	if p.err == nil {
		if field, err := p.check(op, s); err != nil {
			p.err = &LineError{Line: line, Field: field, Err: err}
		}
	}
	if op.Type == Invoke {
		s.open, s.line = len(p.out)+1, line
		p.open.set(op.Process, s)
		p.out = append(p.out, Operation{Invoke: *op})
		return
	}
	if s.open == 0 {
		return
	}
	p.out[s.open-1].Completion = *op
	s.done, s.doneAt = s.open, line
	s.open = 0
	p.open.set(op.Process, s)
	if op.Type == Info {
		p.retired[op.Process] = event{line: line, index: op.Index}
	}
}

// Result returns the operations in invocation order and the first breach
// of the recorder's contract, nil when there was none. A history that
// breaks the contract cannot be trusted to mean what a checker would be
// told.
func (p *Pairer) Result() ([]Operation, error) { return p.out, p.err }

// at names a line (or an event's position) in a breach's message.
func (p *Pairer) at(line int) string {
	if p.lines {
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("event %d", line)
}

// check tests op against the contract, given the events before it and its
// process's slot s, and returns the field at fault with the breach.
func (p *Pairer) check(op *Op, s slot) (string, error) {
	switch op.F {
	case Read, Write, CAS, FinalRead:
	default:
		return "f", fmt.Errorf("unknown operation %q", op.F)
	}
	if op.Type == Invoke {
		if s.open > 0 {
			inv := &p.out[s.open-1].Invoke
			return "process", fmt.Errorf("process %d invoked again while its invocation on %s (index %d) was open%s",
				op.Process, p.at(s.line), inv.Index, duplicate(inv, op))
		}
		if at, ok := p.retired[op.Process]; ok {
			return "process", fmt.Errorf("process %d invoked again after an indeterminate result on %s (index %d)", op.Process, p.at(at.line), at.index)
		}
		return "", nil
	}
	switch op.Type {
	case OK, Fail, Info:
	default:
		return "type", fmt.Errorf("unknown event type %q", op.Type)
	}
	if s.open == 0 {
		hint := ""
		if s.done > 0 {
			hint = fmt.Sprintf("; its last completion is on %s%s", p.at(s.doneAt), duplicate(&p.out[s.done-1].Completion, op))
		}
		return "process", fmt.Errorf("%s of process %d, which has no open invocation%s", op.Type, op.Process, hint)
	}
	inv := &p.out[s.open-1].Invoke
	// Formatted only for a breach: pairing runs once per event.
	where := func() string { return fmt.Sprintf("invoked on %s (index %d)", p.at(s.line), inv.Index) }
	switch {
	case inv.F != op.F:
		return "f", fmt.Errorf("%s %s(%s) completes %s(%s) %s", op.Type, op.F, op.Key, inv.F, inv.Key, where())
	case inv.Key != op.Key:
		return "key", fmt.Errorf("%s %s(%s) completes %s(%s) %s", op.Type, op.F, op.Key, inv.F, inv.Key, where())
	case op.Time < inv.Time:
		return "time", fmt.Errorf("completes before its invocation, %s", where())
	}
	return "", nil
}

// duplicate says when op repeats earlier, the event before it of the same
// process: the same index is a line written twice.
func duplicate(earlier, op *Op) string {
	if *earlier == *op {
		return ", and is a copy of it (a duplicated line)"
	}
	if earlier.Index == op.Index {
		return fmt.Sprintf(", with the same index %d (a duplicated line?)", op.Index)
	}
	return ""
}

// openTable maps a process to its slot. Recorders number processes densely
// from 0, so a slice serves them without hashing; other numbers go to a
// map.
type openTable struct {
	small []slot
	big   map[int]slot
}

// slot is what the Pairer keeps of one process: its open invocation and
// its last completion, as positions+1 in the output (0 = none), with the
// lines they came from.
type slot struct {
	open, line   int
	done, doneAt int
}

// smallProcesses bounds the slice part of an openTable.
const smallProcesses = 1 << 16

func (t *openTable) get(process int) (slot, bool) {
	if uint(process) < uint(len(t.small)) {
		return t.small[process], true
	}
	s, ok := t.big[process]
	return s, ok
}

func (t *openTable) set(process int, s slot) {
	if process >= 0 && process < smallProcesses {
		if process >= len(t.small) {
			t.small = append(t.small, make([]slot, process+1-len(t.small))...)
		}
		t.small[process] = s
		return
	}
	t.big[process] = s
}
