package checker

import (
	"slices"
	"time"

	"github.com/hadrill/hadrill/history"
)

// Input is everything the checks read: one run's recorded history and
// faults, in the history package's time base (ns since the run's start).
type Input struct {
	// Ops is the history as recorded: invocations and completions. It may
	// be nil when Pairs is set.
	Ops []history.Op
	// Pairs, when set, is the history already paired (history.Pairer, or
	// history.ReadOperations, which pairs while it decodes), and Contract
	// the pairer's first breach of the recorder's contract. Every check
	// reads the pairs, so a caller that has them saves a pass and a copy.
	Pairs    []history.Operation
	Contract error
	// Faults are the folded faults (history.FoldFaults), in schedule order.
	Faults []history.Fault
	// End is when the run stopped, in ns. It bounds open fault windows and
	// the last success run of RTO. Zero means "the latest time recorded in
	// the history or the faults", which is what an offline re-check of a
	// crashed run has to go on.
	End int64
}

// withPairs returns in with Pairs and Contract filled in from Ops when the
// caller did not pair the history; pairing a large history costs about as
// much as checking RTO, RPO, availability and latency together, so Run
// does it once for every check.
func (in Input) withPairs() Input {
	if in.Pairs == nil {
		p := history.NewPairer(len(in.Ops)/2 + 1)
		for i := range in.Ops {
			p.Add(&in.Ops[i])
		}
		in.Pairs, in.Contract = p.Result()
	}
	return in
}

// paired returns the history's operations.
func (in Input) paired() []history.Operation { return in.withPairs().Pairs }

// end returns the run's end time, derived from the records when End is 0.
func (in Input) end() int64 {
	if in.End > 0 {
		return in.End
	}
	var end int64
	for _, op := range in.Ops {
		end = max(end, op.Time)
	}
	if in.Ops == nil {
		for i := range in.Pairs {
			p := &in.Pairs[i]
			end = max(end, p.Invoke.Time, p.Completion.Time)
		}
	}
	for _, f := range in.Faults {
		end = max(end, f.Requested, f.Effective, f.HealRequested, f.Healed)
	}
	return end
}

// requested returns the faults that were actually requested, in schedule
// order. FoldFaults leaves Requested at 0 for a fault whose request never
// happened (the run stopped first); such a fault has no window, so no check
// measures anything around it.
func (in Input) requested() []history.Fault {
	var out []history.Fault
	for _, f := range in.Faults {
		if f.Requested > 0 {
			out = append(out, f)
		}
	}
	return out
}

// window is a half-open interval of run time, [from, to), in ns.
type window struct{ from, to int64 }

// faultWindow is the time a fault was in force (history.Fault.Window). An
// unhealed fault stays open to the end of time, which for a finite history
// means "to the end of the run".
func faultWindow(f history.Fault) window {
	from, to := f.Window()
	return window{from: from, to: to}
}

// contains reports whether t falls in the window.
func (w window) contains(t int64) bool { return t >= w.from && t < w.to }

// Targets are the scenario's targets. A nil pointer (or false) means no
// target: the check is still measured and reported, and it passes, with a
// detail when it saw something a target would have caught.
type Targets struct {
	// Linearizable requires the history to be linearizable.
	Linearizable bool
	// RTO is the longest acceptable recovery time, per disruptive fault.
	RTO *time.Duration
	// RPO is the largest acceptable number of lost acknowledged ledger writes.
	RPO *int
	// RPOWindow is the largest acceptable RPO window (see RPO).
	RPOWindow *time.Duration
	// Availability is the smallest acceptable whole-run ratio of ok ops.
	Availability *float64
}

// Options tune how the checks measure. The zero value is the documented
// default for every field, so callers set only what they mean to change.
type Options struct {
	// LinearizabilityTimeout bounds porcupine; 0 means DefaultTimeout. The
	// problem is NP-hard, so without a bound a large history could hang
	// the verdict; a timeout gives Unknown, never a pass.
	LinearizabilityTimeout time.Duration
	// Settle is how long writes must keep succeeding before RTO counts the
	// cluster as recovered; 0 means DefaultSettle.
	Settle time.Duration
	// Disruptive says which faults RTO and the RPO window are measured
	// for; nil means every fault. A fault that is not expected to interrupt
	// writes (a small delay, say) would otherwise report its own noise as
	// a recovery time.
	Disruptive func(history.Fault) bool
}

// Defaults for Options.
const (
	DefaultTimeout = 60 * time.Second
	DefaultSettle  = time.Second
)

// withDefaults fills in the zero fields of o.
func (o Options) withDefaults() Options {
	if o.LinearizabilityTimeout <= 0 {
		o.LinearizabilityTimeout = DefaultTimeout
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.Disruptive == nil {
		o.Disruptive = func(history.Fault) bool { return true }
	}
	return o
}

// DisruptiveKinds returns an Options.Disruptive that accepts only faults of
// the given kinds, for scenarios that mix disruptive faults (kill,
// partition) with mild ones they do not want an RTO for.
func DisruptiveKinds(kinds ...string) func(history.Fault) bool {
	return func(f history.Fault) bool { return slices.Contains(kinds, f.Kind) }
}

// disruptive returns the requested faults that opt counts as disruptive.
func (in Input) disruptive(opt Options) []history.Fault {
	opt = opt.withDefaults()
	var out []history.Fault
	for _, f := range in.requested() {
		if opt.Disruptive(f) {
			out = append(out, f)
		}
	}
	return out
}

// isWrite reports whether an operation can change state: a register write,
// a ledger write or a compare-and-set. The final read phase is not a write.
func isWrite(f history.Func) bool { return f == history.Write || f == history.CAS }

// kind names an operation's latency class: ledger writes are kept apart from
// register writes because they go to fresh keys and may cost differently.
func kind(op history.Op) string {
	if op.F == history.Write && op.IsLedger() {
		return "ledger"
	}
	return string(op.F)
}
