package checker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/hadrill/hadrill/history"
)

// LinearizabilityResult is the linearizability check's outcome, plus what is
// needed to draw porcupine's visualization of it.
type LinearizabilityResult struct {
	Check Check
	// Operations is how many operations were checked (failed operations
	// and failed or indeterminate reads are dropped first).
	Operations int
	// Keys is how many keys (porcupine partitions) they touched.
	Keys int

	ran    bool // porcupine found the history illegal and info was kept to draw it
	info   porcupine.LinearizationInfo
	faults []history.Fault
	end    int64
}

// Linearizability checks the history against a key-partitioned register model
// with porcupine (see the package documentation for how the history is
// translated). required is the scenario's "linearizable" target: without it
// the check still runs and a violation is reported in Detail, but passes.
//
// The check first validates the recorder's contract (see history.Pairer); a
// history that breaks it cannot be trusted to mean what porcupine would be
// told, so the result is Unknown. A porcupine timeout, or ctx ending first,
// is Unknown too, never a pass, and so is a history with nothing to check.
func Linearizability(ctx context.Context, in Input, required bool, opt Options) *LinearizabilityResult {
	opt = opt.withDefaults()
	in = in.withPairs()
	r := &LinearizabilityResult{faults: in.requested()}
	if slices.ContainsFunc(r.faults, func(f history.Fault) bool { return f.Healed == 0 }) {
		r.end = in.end() // bounds an unhealed fault's annotation; a walk over the history
	}
	if in.Contract != nil {
		r.Check = outcome(required, Unknown, "history breaks the recorder's contract: "+in.Contract.Error())
		return r
	}
	g := groupByKey(in.Pairs)
	r.Operations, r.Keys = g.ops(), g.keys()
	if r.Operations == 0 {
		r.Check = outcome(required, Unknown, "no operations to check")
		return r
	}
	res, err := checkByKey(ctx, in.Pairs, g, opt.LinearizabilityTimeout)
	switch {
	case err != nil:
		r.Check = outcome(required, Unknown, err.Error())
	case res == porcupine.Ok:
		r.Check = Check{Result: Pass} // porcupine's linearizations are not kept
	case res == porcupine.Illegal:
		r.Check = r.explain(ctx, in.Pairs, g, required, opt.LinearizabilityTimeout)
	default:
		r.Check = outcome(required, Unknown, fmt.Sprintf(
			"porcupine timed out after %v on %d operations over %d keys",
			opt.LinearizabilityTimeout, r.Operations, r.Keys))
	}
	return r
}

// explain checks a history that checkByKey found illegal once more, whole
// and with porcupine's linearization info, which names the keys that
// cannot be linearized (Detail) and is kept for WriteVisualization. Only a
// failing history pays for the info, and it is checked twice: the second
// run has the full timeout again, and if it times out all the same, the
// failure stands, explained by the partial linearizations porcupine found.
func (r *LinearizabilityResult) explain(ctx context.Context, pairs []history.Operation, g keyGroups, required bool, timeout time.Duration) Check {
	ops, parts := operations(pairs, g)
	res, info, err := runPorcupine(ctx, ops, parts, timeout)
	switch {
	case err != nil:
		return outcome(required, Unknown, err.Error())
	case res == porcupine.Ok:
		return outcome(required, Unknown, "porcupine found the history illegal key by key and legal whole")
	}
	r.ran, r.info = true, info
	return outcome(required, Fail, "not linearizable: "+explainIllegal(parts, info))
}

// outcome builds a check whose measurement came out as got. Without a target
// a bad measurement is still described, but the check passes.
func outcome(hasTarget bool, got Result, detail string) Check {
	if !hasTarget {
		return Check{Result: Pass, Detail: "no target; " + detail}
	}
	return Check{Result: got, Detail: detail}
}

// runPorcupine runs porcupine with a timeout that also respects ctx's
// deadline. porcupine takes no context, so cancellation reaches it through
// the model's step, which fails every step once ctx is done (a flag set by
// a watcher, so a step costs one atomic load); whatever porcupine concludes
// after that is discarded, because a forced failure can look like an
// illegal history. It keeps porcupine's linearization info, and so holds
// every key's search at once: explain runs it on a history that
// checkByKey found illegal.
//
// parts is ops cut by key (see operations); porcupine is handed them as the
// model's partition, so that it does not cut the slice again.
func runPorcupine(ctx context.Context, ops []porcupine.Operation, parts [][]porcupine.Operation, timeout time.Duration) (porcupine.CheckResult, porcupine.LinearizationInfo, error) {
	var none porcupine.LinearizationInfo
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 && ctx.Err() == nil {
		return porcupine.Unknown, none, fmt.Errorf("check linearizability: %w", context.DeadlineExceeded)
	}
	if err := ctx.Err(); err != nil {
		return porcupine.Unknown, none, fmt.Errorf("check linearizability: %w", err)
	}
	model := registerModel
	model.Partition = func(got []porcupine.Operation) [][]porcupine.Operation {
		if len(got) == len(ops) && len(got) > 0 && &got[0] == &ops[0] {
			return parts
		}
		return cutByKey(got)
	}
	if ctx.Done() != nil {
		var cancelled atomic.Bool
		stop := context.AfterFunc(ctx, func() { cancelled.Store(true) })
		defer stop()
		model.Step = func(state, input, output any) (bool, any) {
			if cancelled.Load() {
				return false, state
			}
			return stepRegister(state, input, output)
		}
	}
	res, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	if err := ctx.Err(); err != nil {
		return porcupine.Unknown, none, fmt.Errorf("check linearizability: %w", err)
	}
	return res, info, nil
}

// operations translates paired history operations into porcupine's form,
// grouped by key, keys in order of first appearance (see registerModel),
// and returns them with their cut by key (sub-slices, one per key, in the
// same order):
//   - a read (or final read) that completed ok is a read of its observed
//     value; a failed or indeterminate read is dropped, since it observed
//     nothing;
//   - a failed write is dropped: it certainly did not happen; so is a CAS
//     refused for any reason other than 412;
//   - a CAS answered 412 is kept with its real interval, as a comparison
//     that found another value (see stepRegister);
//   - an acknowledged write or CAS is kept with its real interval, and an
//     indeterminate one (info, or never completed) is open until the end of
//     time (Return = MaxInt64), so porcupine may take it as having happened
//     at any point after its call, or not at all.
//
// Each porcupine operation points at its pair, as input and metadata, and
// carries its regKind as output: the translation copies no strings and
// boxes nothing. Processes are renumbered
// densely in order of appearance, because the visualization draws one row
// per client id. g is pairs grouped by key (groupByKey), which decides what
// is kept; checkByKey translates the same way, a batch at a time.
func operations(pairs []history.Operation, g keyGroups) ([]porcupine.Operation, [][]porcupine.Operation) {
	clients := newClientIDs()
	for i := range pairs {
		if checked(&pairs[i]) {
			clients.id(pairs[i].Invoke.Process) // numbered in order of appearance
		}
	}
	out := make([]porcupine.Operation, g.ops())
	for j, i := range g.order {
		p := &pairs[i]
		out[j] = porcupineOp(p, clients.id(p.Invoke.Process))
		out[j].Metadata = p
	}
	parts := make([][]porcupine.Operation, g.keys())
	for k := range parts {
		parts[k] = out[g.start[k]:g.start[k+1]:g.start[k+1]]
	}
	return out, parts
}

// porcupineOp translates one pair that porcupine is told about (see
// operations), without metadata.
func porcupineOp(p *history.Operation, client int) porcupine.Operation {
	ret := p.Completion.Time
	if p.Invoke.F != history.Read && p.Invoke.F != history.FinalRead && p.Outcome() != history.OK && !refused(p) {
		ret = math.MaxInt64
	}
	return porcupine.Operation{ClientId: client, Input: p, Call: p.Invoke.Time, Output: kindOf(p), Return: ret}
}

// checked reports whether porcupine is told about an operation.
func checked(p *history.Operation) bool {
	switch p.Invoke.F {
	case history.Read, history.FinalRead:
		return p.Outcome() == history.OK
	case history.Write:
		return p.Outcome() != history.Fail
	case history.CAS:
		return p.Outcome() != history.Fail || refused(p)
	}
	return false
}

// clientIDs numbers processes densely in order of appearance.
type clientIDs struct {
	small []int32 // process -> id+1, for small non-negative processes
	big   map[int]int
	n     int
}

func newClientIDs() *clientIDs { return &clientIDs{small: make([]int32, 1<<12), big: map[int]int{}} }

func (c *clientIDs) id(process int) int {
	if process >= 0 && process < len(c.small) {
		if c.small[process] == 0 {
			c.n++
			c.small[process] = int32(c.n)
		}
		return int(c.small[process]) - 1
	}
	id, ok := c.big[process]
	if !ok {
		id = c.n
		c.n++
		c.big[process] = id
	}
	return id
}

// explainIllegal names the keys porcupine could not linearize and, for each,
// the earliest-returning operation outside its longest partial
// linearization: the first operation that no legal order could place, which
// is where a reader should start looking.
func explainIllegal(parts [][]porcupine.Operation, info porcupine.LinearizationInfo) string {
	partials := info.PartialLinearizations()
	var keys []string
	for i, part := range parts {
		longest := []int{}
		if i < len(partials) {
			longest = longestPartial(partials[i])
		}
		if len(longest) == len(part) {
			continue
		}
		keys = append(keys, fmt.Sprintf("key %s: %s cannot be placed (longest linearization covers %d of %d operations)",
			opKey(part[0]), firstOutside(part, longest), len(longest), len(part)))
	}
	const shown = 5
	if len(keys) > shown {
		keys = append(keys[:shown], fmt.Sprintf("and %d more keys", len(keys)-shown))
	}
	return strings.Join(keys, "; ")
}

// longestPartial picks the longest partial linearization. porcupine returns
// them as a set in no fixed order, so ties go to the lexicographically
// smallest, to name the same culprit on every run.
func longestPartial(ls [][]int) []int {
	best := []int{}
	for _, l := range ls {
		if len(l) > len(best) || (len(l) == len(best) && slices.Compare(l, best) < 0) {
			best = l
		}
	}
	return best
}

// firstOutside describes the operation of part that is not in the
// linearization and returns first.
func firstOutside(part []porcupine.Operation, linearized []int) string {
	in := make([]bool, len(part))
	for _, id := range linearized {
		in[id] = true
	}
	best := -1
	for i, op := range part {
		if !in[i] && (best < 0 || op.Return < part[best].Return) {
			best = i
		}
	}
	if best < 0 {
		return "an operation"
	}
	op := part[best]
	return fmt.Sprintf("%s [%s]", describeOp(op.Input, nil), describeMeta(op.Metadata))
}

// WriteVisualization writes porcupine's interactive HTML view of the history
// and its (partial) linearizations, with the faults drawn as annotations so
// that a violation can be read against what the nemesis was doing. It is
// meant for linearizability.html when the check fails: porcupine's
// linearizations are kept only for a history it found illegal (also when
// there is no target and the check passes with that detail), since holding
// them for a long history that passed would cost as much memory as the
// history itself.
func (r *LinearizabilityResult) WriteVisualization(w io.Writer) error {
	if r == nil || !r.ran {
		return errors.New("write linearizability visualization: porcupine found no violation to draw")
	}
	info := r.info // AddAnnotations appends to a copy, so r stays unannotated
	var notes []porcupine.Annotation
	for _, f := range r.faults {
		end := f.Healed
		if end == 0 {
			end = r.end
		}
		notes = append(notes, porcupine.Annotation{
			Tag: "faults", Start: f.Requested, End: max(end, f.Requested),
			Description: fmt.Sprintf("%s %s", f.Kind, f.Target),
			Details:     fmt.Sprintf("fault %d, nodes %s", f.ID, strings.Join(f.Nodes, ",")),
		})
	}
	info.AddAnnotations(notes)
	if err := porcupine.Visualize(registerModel, info, w); err != nil {
		return fmt.Errorf("write linearizability visualization: %w", err)
	}
	return nil
}
