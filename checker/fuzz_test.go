package checker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
)

// fuzzHistory turns bytes into a small history, three bytes an event: a
// process (of 4), what it does (invoke a read, write, CAS or final read on
// one of 2 keys, or complete ok, fail, 412 or info), and a value (of 3).
// Times go up by the byte's value, so they may tie. Most such histories
// break the recorder's contract somewhere, which the checker must notice.
func fuzzHistory(data []byte) []history.Op {
	funcs := []history.Func{history.Read, history.Write, history.CAS, history.FinalRead}
	var ops []history.Op
	open := map[int]history.Op{}
	now := int64(0)
	for i := 0; i+2 < len(data) && len(ops) < 200; i += 3 {
		proc, what, v := int(data[i]%4), int(data[i+1]), fmt.Sprint("v", data[i+2]%3)
		now += int64(data[i+2])
		op := history.Op{Index: int64(len(ops)), Process: proc, Time: now}
		if inv, ok := open[proc]; ok && what%8 >= 2 {
			op.F, op.Key, op.From, op.Value = inv.F, inv.Key, inv.From, inv.Value
			switch what % 4 {
			case 0:
				op.Type = history.OK
				if inv.F == history.Read || inv.F == history.FinalRead {
					op.Value = v
				}
			case 1:
				op.Type = history.Fail
			case 2:
				op.Type, op.Error = history.Fail, history.Precondition
			default:
				op.Type = history.Info
			}
			delete(open, proc)
		} else {
			op.Type, op.F, op.Key = history.Invoke, funcs[what%4], fmt.Sprint("k", what/4%2)
			if op.F == history.Write || op.F == history.CAS {
				op.Value = v
			}
			if op.F == history.CAS {
				op.From = fmt.Sprint("v", (data[i+2]+1)%3)
			}
			open[proc] = op
		}
		ops = append(ops, op)
	}
	return ops
}

// FuzzChecker runs every check on random small histories: no panic, no
// hang (porcupine is bounded), and never a pass it cannot stand behind: a
// history that breaks the recorder's contract, or that holds nothing to
// check, is not a linearizability pass, and a run with no operation is not
// a passing verdict.
func FuzzChecker(f *testing.F) {
	f.Add([]byte{0, 1, 5, 0, 2, 0, 1, 0, 3, 1, 4, 0})
	f.Add([]byte{0, 9, 1, 0, 2, 1, 1, 8, 2, 1, 6, 0, 2, 4, 1, 2, 4, 2})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := Input{Ops: fuzzHistory(data), Faults: []history.Fault{{ID: 0, Kind: "kill", Requested: 50, FirstEffective: 60, Healed: 400}}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		targets := Targets{Linearizable: true, RTO: new(time.Duration), RPO: new(int), Availability: new(float64)}
		r := Run(ctx, in, targets, Options{LinearizabilityTimeout: 2 * time.Second})
		lin := r.Checks[CheckLinearizability]
		paired := in.withPairs()
		switch {
		case paired.Contract != nil && lin.Result == Pass:
			t.Fatalf("contract broken (%v), yet linearizability passed", paired.Contract)
		case r.Linearization.Operations == 0 && lin.Result == Pass:
			t.Fatalf("nothing to check, yet linearizability passed")
		case r.Ops.Total == 0 && r.Verdict == Pass:
			t.Fatalf("no operations, yet the verdict is pass")
		}
		for name, c := range r.Checks {
			if c.Result != Pass && c.Result != Fail && c.Result != Unknown {
				t.Fatalf("%s: result %q", name, c.Result)
			}
		}
	})
}
