package checker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/hadrill/hadrill/history"
)

// LinearizabilityResult is the linearizability check's outcome, plus what is
// needed to draw porcupine's visualization of it.
type LinearizabilityResult struct {
	Check Check
	// Operations is how many operations were given to porcupine (failed
	// operations and failed or indeterminate reads are dropped first).
	Operations int
	// Keys is how many keys (porcupine partitions) they touched.
	Keys int

	ran    bool // porcupine ran to a result, so info can be drawn
	info   porcupine.LinearizationInfo
	faults []history.Fault
	end    int64
}

// Linearizability checks the history against a key-partitioned register model
// with porcupine (see the package documentation for how the history is
// translated). required is the scenario's "linearizable" target: without it
// the check still runs and a violation is reported in Detail, but passes.
//
// The check first validates the recorder's contract (each process sequential,
// and retired after an indeterminate result); a history that breaks it cannot
// be trusted to mean what porcupine would be told, so the result is Unknown.
// A porcupine timeout, or ctx ending first, is Unknown too, never a pass.
func Linearizability(ctx context.Context, in Input, required bool, opt Options) *LinearizabilityResult {
	opt = opt.withDefaults()
	r := &LinearizabilityResult{faults: in.requested(), end: in.end()}
	if err := validate(in.Ops); err != nil {
		r.Check = outcome(required, Unknown, "history breaks the recorder's contract: "+err.Error())
		return r
	}
	ops := operations(in.paired())
	parts := partitionByKey(ops)
	r.Operations, r.Keys = len(ops), len(parts)
	if len(ops) == 0 {
		r.Check = Check{Result: Pass, Detail: "no operations to check"}
		return r
	}
	res, info, err := runPorcupine(ctx, ops, opt.LinearizabilityTimeout)
	switch {
	case err != nil:
		r.Check = outcome(required, Unknown, err.Error())
	case res == porcupine.Ok:
		r.ran, r.info = true, info
		r.Check = Check{Result: Pass}
	case res == porcupine.Illegal:
		r.ran, r.info = true, info
		r.Check = outcome(required, Fail, "not linearizable: "+explainIllegal(parts, info))
	default:
		r.Check = outcome(required, Unknown, fmt.Sprintf(
			"porcupine timed out after %v on %d operations over %d keys",
			opt.LinearizabilityTimeout, len(ops), len(parts)))
	}
	return r
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
// the model's step, which fails every step once ctx is done; whatever
// porcupine concludes after that is discarded, because a forced failure can
// look like an illegal history.
func runPorcupine(ctx context.Context, ops []porcupine.Operation, timeout time.Duration) (porcupine.CheckResult, porcupine.LinearizationInfo, error) {
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
	if ctx.Done() != nil {
		model.Step = func(state, input, output any) (bool, any) {
			if ctx.Err() != nil {
				return false, state
			}
			return stepRegister(state, input, output)
		}
	}
	type result struct {
		res  porcupine.CheckResult
		info porcupine.LinearizationInfo
	}
	done := make(chan result, 1)
	go func() {
		res, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
		done <- result{res, info}
	}()
	select {
	case r := <-done:
		if err := ctx.Err(); err != nil {
			return porcupine.Unknown, none, fmt.Errorf("check linearizability: %w", err)
		}
		return r.res, r.info, nil
	case <-ctx.Done():
		return porcupine.Unknown, none, fmt.Errorf("check linearizability: %w", ctx.Err())
	}
}

// operations translates paired history operations into porcupine's form:
//   - a read (or final read) that completed ok is a read of its observed
//     value; a failed or indeterminate read is dropped, since it observed
//     nothing;
//   - a failed write or CAS is dropped: it certainly did not happen (a 412
//     CAS included);
//   - an acknowledged write or CAS is kept with its real interval, and an
//     indeterminate one (info, or never completed) is open until the end of
//     time (Return = MaxInt64), so porcupine may take it as having happened
//     at any point after its call, or not at all.
//
// Processes are renumbered densely in order of appearance, because the
// visualization draws one row per client id.
func operations(pairs []history.Operation) []porcupine.Operation {
	clients := map[int]int{}
	out := make([]porcupine.Operation, 0, len(pairs))
	for _, p := range pairs {
		inv, done := p.Invoke, p.Outcome()
		op := regOp{f: inv.F, key: inv.Key, from: inv.From, value: inv.Value}
		ret := p.Completion.Time
		switch {
		case inv.F == history.Read || inv.F == history.FinalRead:
			if done != history.OK {
				continue
			}
			op.f, op.value, op.final = history.Read, p.Completion.Value, inv.F == history.FinalRead
		case !isWrite(inv.F) || done == history.Fail:
			continue
		case done != history.OK:
			op.open, ret = true, math.MaxInt64
		}
		c, ok := clients[inv.Process]
		if !ok {
			c = len(clients)
			clients[inv.Process] = c
		}
		out = append(out, porcupine.Operation{
			ClientId: c, Input: op, Call: inv.Time, Return: ret,
			Metadata: regMeta{process: inv.Process, node: p.Completion.Node, index: inv.Index},
		})
	}
	return out
}

// validate checks the recorder's contract that the translation relies on,
// the way etcd's robustness tests validate before they check: every
// completion answers an open invocation of the same process, function and
// key, no earlier than it was invoked; a process has at most one open
// invocation; and a process that got an indeterminate answer is retired.
// The last rule matters because an info write stays open forever: a later
// operation of the same process would not be sequential after it.
func validate(ops []history.Op) error {
	open := map[int]history.Op{}
	retired := map[int]int64{} // process -> index of its info completion
	for _, op := range ops {
		switch op.F {
		case history.Read, history.Write, history.CAS, history.FinalRead:
		default:
			return fmt.Errorf("index %d: unknown operation %q", op.Index, op.F)
		}
		if op.Type == history.Invoke {
			if prev, ok := open[op.Process]; ok {
				return fmt.Errorf("index %d: process %d invoked again while index %d was open", op.Index, op.Process, prev.Index)
			}
			if at, ok := retired[op.Process]; ok {
				return fmt.Errorf("index %d: process %d invoked again after an indeterminate result at index %d", op.Index, op.Process, at)
			}
			open[op.Process] = op
			continue
		}
		if err := validateCompletion(op, open); err != nil {
			return err
		}
		delete(open, op.Process)
		if op.Type == history.Info {
			retired[op.Process] = op.Index
		}
	}
	return nil
}

// validateCompletion checks that op answers its process's open invocation.
func validateCompletion(op history.Op, open map[int]history.Op) error {
	switch op.Type {
	case history.OK, history.Fail, history.Info:
	default:
		return fmt.Errorf("index %d: unknown event type %q", op.Index, op.Type)
	}
	inv, ok := open[op.Process]
	switch {
	case !ok:
		return fmt.Errorf("index %d: %s of process %d, which has no open invocation", op.Index, op.Type, op.Process)
	case inv.F != op.F || inv.Key != op.Key:
		return fmt.Errorf("index %d: %s %s(%s) completes %s(%s) invoked at index %d", op.Index, op.Type, op.F, op.Key, inv.F, inv.Key, inv.Index)
	case op.Time < inv.Time:
		return fmt.Errorf("index %d: completes before its invocation at index %d", op.Index, inv.Index)
	}
	return nil
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
			part[0].Input.(regOp).key, firstOutside(part, longest), len(longest), len(part)))
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
// meant for linearizability.html when the check fails, but works whenever
// porcupine ran to a result.
func (r *LinearizabilityResult) WriteVisualization(w io.Writer) error {
	if r == nil || !r.ran {
		return errors.New("write linearizability visualization: porcupine did not run to a result")
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
