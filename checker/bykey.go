package checker

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/hadrill/hadrill/history"
)

// keyGroups is the operations porcupine is told about (see checked),
// grouped by key, keys in order of first appearance: key k's operations are
// the pairs order[start[k]:start[k+1]], in history order. Indices are
// int32, a quarter of a porcupine.Operation's pointer and interfaces, so
// that the grouping of a long history stays small while it is checked.
type keyGroups struct {
	order []int32
	start []int
}

// groupByKey groups pairs by key (see keyGroups).
func groupByKey(pairs []history.Operation) keyGroups {
	part := make([]int32, len(pairs)) // key number, in order of appearance; -1 = dropped
	byKey := map[string]int32{}
	var counts []int
	kept := 0
	for i := range pairs {
		part[i] = -1
		if !checked(&pairs[i]) {
			continue
		}
		k, ok := byKey[pairs[i].Invoke.Key]
		if !ok {
			k = int32(len(counts))
			byKey[pairs[i].Invoke.Key] = k
			counts = append(counts, 0)
		}
		part[i] = k
		counts[k]++
		kept++
	}
	g := keyGroups{order: make([]int32, kept), start: make([]int, len(counts)+1)}
	for k, n := range counts {
		g.start[k+1] = g.start[k] + n
	}
	next := counts[:0] // reused: where key k's next operation goes
	for k := range len(counts) {
		next = append(next, g.start[k])
	}
	for i, k := range part {
		if k >= 0 {
			g.order[next[k]] = int32(i)
			next[k]++
		}
	}
	return g
}

// ops is how many operations porcupine is told about.
func (g keyGroups) ops() int { return len(g.order) }

// keys is how many keys (porcupine partitions) they touch.
func (g keyGroups) keys() int { return len(g.start) - 1 }

// batchOps is about how many operations one porcupine call of checkByKey
// takes: enough that a history of many one-write keys (the ledger) is not
// one call per key, few enough that only a sliver of the history is
// translated for porcupine at any time.
const batchOps = 1 << 10

// checkByKey is porcupine on the grouped operations without its
// linearization info: the keys are cut into batches, and GOMAXPROCS workers
// each translate one batch at a time and hand it to porcupine as its
// partitions. Handing porcupine the whole history at once, as runPorcupine
// does, holds every key's search state (entries, linked lists, caches) and
// goroutine together until the last key is done; batch by batch, only the
// batches being checked exist, so the check's memory is that of the history
// it reads. The verdict is the same, since a key-value store is
// linearizable exactly when each key is (porcupine's own partitioning rests
// on it).
//
// A key with a single operation skips porcupine (see translateBatch). It
// stops at the first batch found illegal. The timeout, and ctx
// ending, reach porcupine as in runPorcupine: every step fails from then on,
// and what porcupine concludes is discarded.
func checkByKey(ctx context.Context, pairs []history.Operation, g keyGroups, timeout time.Duration) (porcupine.CheckResult, error) {
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if err := ctx.Err(); err != nil {
		return porcupine.Unknown, fmt.Errorf("check linearizability: %w", err)
	}
	if timeout <= 0 {
		return porcupine.Unknown, fmt.Errorf("check linearizability: %w", context.DeadlineExceeded)
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var abort, illegal atomic.Bool // abort: every step fails; illegal: a batch failed before abort
	stop := context.AfterFunc(tctx, func() { abort.Store(true) })
	defer stop()
	model := registerModel
	model.Step = func(state, input, output any) (bool, any) {
		if abort.Load() {
			return false, state
		}
		return stepRegister(state, input, output)
	}
	batches := cutBatches(g)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(batches)-1) {
		wg.Go(func() {
			var buf []porcupine.Operation
			var parts [][]porcupine.Operation
			for {
				b := int(next.Add(1)) - 1
				if b >= len(batches)-1 || abort.Load() {
					return
				}
				var singlesOK bool
				buf, parts, singlesOK = translateBatch(pairs, g, batches[b], batches[b+1], buf[:0], parts[:0])
				batchModel := model
				batchModel.Partition = func([]porcupine.Operation) [][]porcupine.Operation { return parts }
				if (!singlesOK || porcupine.CheckOperationsTimeout(batchModel, buf, 0) != porcupine.Ok) && !abort.Load() {
					illegal.Store(true)
					abort.Store(true)
				}
			}
		})
	}
	wg.Wait()
	switch {
	case ctx.Err() != nil:
		return porcupine.Unknown, fmt.Errorf("check linearizability: %w", ctx.Err())
	case illegal.Load():
		return porcupine.Illegal, nil
	case abort.Load():
		return porcupine.Unknown, nil // timed out
	}
	return porcupine.Ok, nil
}

// cutBatches cuts g's keys into batches of about batchOps operations (a
// key is never split): batch b is keys cuts[b] to cuts[b+1].
func cutBatches(g keyGroups) []int {
	cuts := []int{0}
	for k := 1; k <= g.keys(); k++ {
		if g.start[k]-g.start[cuts[len(cuts)-1]] >= batchOps || k == g.keys() {
			cuts = append(cuts, k)
		}
	}
	return cuts
}

// translateBatch translates keys from to to of g for porcupine, into buf,
// and returns them with their cut by key (into parts). The client ids are
// the processes: porcupine uses them only to draw, and this check draws
// nothing.
//
// A key with a single operation (every ledger key) is checked here
// instead, and left out: porcupine would take it as legal exactly when one
// step of the model from its initial state is, and starting a search for
// it costs far more than the step. singlesOK reports whether they all were.
func translateBatch(pairs []history.Operation, g keyGroups, from, to int, buf []porcupine.Operation, parts [][]porcupine.Operation) (_ []porcupine.Operation, _ [][]porcupine.Operation, singlesOK bool) {
	singlesOK = true
	for k := from; k < to; k++ {
		keyOps := g.order[g.start[k]:g.start[k+1]]
		if len(keyOps) == 1 {
			p := &pairs[keyOps[0]]
			ok, _ := stepRegister(registerModel.Init(), p, kindOf(p))
			singlesOK = singlesOK && ok
			continue
		}
		at := len(buf)
		for _, i := range keyOps {
			p := &pairs[i]
			buf = append(buf, porcupineOp(p, p.Invoke.Process))
		}
		parts = append(parts, buf[at:len(buf):len(buf)])
	}
	return buf, parts, singlesOK
}
