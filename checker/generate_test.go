package checker

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hadrill/hadrill/history"
)

// event is a history event before it gets its index.
type event struct {
	op  history.Op
	seq int // tie-break: the order the generator produced it
}

// finish orders events by time (generation order on ties) and numbers them.
func finish(evs []event) []history.Op {
	slices.SortFunc(evs, func(a, b event) int {
		return cmp.Or(cmp.Compare(a.op.Time, b.op.Time), cmp.Compare(a.seq, b.seq))
	})
	out := make([]history.Op, len(evs))
	for i, e := range evs {
		e.op.Index = int64(i)
		out[i] = e.op
	}
	return out
}

// sequentialHistory generates n operations on one register, one at a time,
// as a correct store would answer them: writes, reads, CAS that succeed or
// fail (412), failed writes that did nothing, and indeterminate writes that
// either took effect at once or never did (after which the process retires,
// as the recorder does). Such a history is linearizable by construction.
func sequentialHistory(rng *rand.Rand, n int) []history.Op {
	var evs []event
	state, proc, now := "", 0, int64(0)
	add := func(op history.Op) { evs = append(evs, event{op, len(evs)}) }
	for i := range n {
		inv := history.Op{Process: proc, Type: history.Invoke, Key: "x", Time: now}
		done := history.Op{Process: proc, Type: history.OK, Key: "x", Time: now + 1 + rng.Int64N(100)}
		v := fmt.Sprint("v", i)
		switch r := rng.IntN(10); {
		case r < 3:
			inv.F, done.Value = history.Read, state
		case r < 5:
			inv.F, inv.Value = history.Write, v
			state = v
		case r < 7:
			inv.F, inv.Value, inv.From = history.CAS, v, state
			if rng.IntN(2) == 0 {
				inv.From, done.Type = "not-"+state, history.Fail
			} else {
				state = v
			}
		case r < 8:
			inv.F, inv.Value, done.Type = history.Write, v, history.Fail
		default:
			inv.F, inv.Value, done.Type = history.Write, v, history.Info
			if rng.IntN(2) == 0 {
				state = v
			}
		}
		done.F, done.From = inv.F, inv.From
		if inv.F != history.Read {
			done.Value = inv.Value
		}
		add(inv)
		add(done)
		if done.Type == history.Info {
			proc++
		}
		now = done.Time + 1 + rng.Int64N(10)
	}
	return finish(evs)
}

// TestSequentialHistoriesAreLinearizable is a generator-based test: random
// sequential single-register histories always pass, and the same history
// with one read changed to a value nobody wrote always fails.
func TestSequentialHistoriesAreLinearizable(t *testing.T) {
	for seed := range uint64(300) {
		ops := sequentialHistory(rand.New(rand.NewPCG(seed, 1)), 60)
		r := Linearizability(context.Background(), Input{Ops: ops}, true, Options{})
		if r.Check.Result != Pass {
			t.Fatalf("seed %d: %q %s", seed, r.Check.Result, r.Check.Detail)
		}
		i := slices.IndexFunc(ops, func(op history.Op) bool { return op.F == history.Read && op.Type == history.OK })
		if i < 0 {
			continue
		}
		ops[i].Value = "bogus"
		if r := Linearizability(context.Background(), Input{Ops: ops}, true, Options{}); r.Check.Result != Fail {
			t.Fatalf("seed %d: corrupted read at index %d gave %q", seed, i, r.Check.Result)
		}
	}
}

// planned is one generated operation before the store has answered it.
type planned struct {
	inv, done history.Op
	at        int64 // when it takes effect
	effect    bool  // an indeterminate write that took effect
}

// concurrentHistory generates n operations by procs concurrent clients over
// keys register keys, a fifth of them ledger writes to fresh keys, as a
// correct store would answer them: each operation takes effect at a random
// instant inside its interval, and the store applies them in that order.
// About 1% of writes are indeterminate (and took effect or not at random);
// their client continues as a new process. The result is linearizable by
// construction, and concurrent like a real workload.
func concurrentHistory(seed uint64, n, keys, procs int) []history.Op {
	rng := rand.New(rand.NewPCG(seed, 2))
	plan := planOps(rng, n, keys, procs)
	answer(rng, plan)
	evs := make([]event, 0, 2*n)
	for i, p := range plan {
		evs = append(evs, event{p.inv, 2 * i}, event{p.done, 2*i + 1})
	}
	return finish(evs)
}

// planOps picks each operation's client, kind, key and times.
func planOps(rng *rand.Rand, n, keys, procs int) []planned {
	plan := make([]planned, 0, n)
	clock, proc, seq := make([]int64, procs), make([]int, procs), make([]int, procs)
	for i := range procs {
		proc[i] = i
	}
	for i := range n {
		c := rng.IntN(procs)
		inv := history.Op{Process: proc[c], Type: history.Invoke, Key: fmt.Sprint("k", rng.IntN(keys)), Time: clock[c] + rng.Int64N(1e6)}
		at := inv.Time + rng.Int64N(2e6)
		done := history.Op{Process: proc[c], Type: history.OK, Time: at + rng.Int64N(2e6)}
		switch r := rng.IntN(10); {
		case r < 2:
			seq[c]++
			inv.F, inv.Key, inv.Value = history.Write, fmt.Sprintf("ledger-%d-%d", c, seq[c]), fmt.Sprint(c, "-", seq[c])
		case r < 5:
			inv.F = history.Read
		case r < 8:
			inv.F, inv.Value = history.Write, fmt.Sprint("v", i)
		default:
			inv.F, inv.Value = history.CAS, fmt.Sprint("v", i)
		}
		p := planned{inv: inv, done: done, at: at}
		if inv.F != history.Read && rng.IntN(100) == 0 {
			p.done.Type, p.effect = history.Info, rng.IntN(2) == 0
			proc[c] += procs // retire the process, as the recorder does
		}
		plan = append(plan, p)
		clock[c] = p.done.Time + 1
	}
	return plan
}

// answer applies the operations in the order they take effect, as the store
// would, and fills in what each one observed or whether its CAS held.
func answer(rng *rand.Rand, plan []planned) {
	order := make([]int, len(plan))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(plan[a].at, plan[b].at) })
	state := map[string]string{}
	for _, i := range order {
		p := &plan[i]
		p.done.F, p.done.Key, p.done.Value = p.inv.F, p.inv.Key, p.inv.Value
		cur := state[p.inv.Key]
		switch {
		case p.inv.F == history.Read:
			p.done.Value = cur
		case p.done.Type == history.Info && !p.effect:
		case p.inv.F == history.CAS && p.done.Type != history.Info && rng.IntN(2) == 0:
			p.inv.From, p.done.Type, p.done.Error = "stale-"+cur, history.Fail, history.Precondition
		case p.inv.F == history.CAS:
			p.inv.From = cur
			state[p.inv.Key] = p.inv.Value
		default:
			state[p.inv.Key] = p.inv.Value
		}
		p.done.From = p.inv.From
	}
}

// TestConcurrentHistoriesAreLinearizable checks the benchmark's generator:
// its histories are valid and linearizable.
func TestConcurrentHistoriesAreLinearizable(t *testing.T) {
	for seed := range uint64(5) {
		ops := concurrentHistory(seed, 2000, 4, 8)
		if err := (Input{Ops: ops}).withPairs().Contract; err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		r := Linearizability(context.Background(), Input{Ops: ops}, true, Options{})
		if r.Check.Result != Pass {
			t.Fatalf("seed %d: %q %s", seed, r.Check.Result, r.Check.Detail)
		}
	}
}
