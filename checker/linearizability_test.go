package checker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
)

// TestLinearizability checks known-good and known-bad histories. Times are
// seconds; [a,b] is an operation's interval.
func TestLinearizability(t *testing.T) {
	for _, tc := range []struct {
		name, fixture string
		required      bool
		want          Result
		detail        []string // substrings of Detail
		ops, keys     int      // operations given to porcupine, and keys
	}{
		{
			// Concurrent write and read, an ok CAS, a 412 CAS (dropped),
			// a failed read (dropped), and an indeterminate write of y
			// that a later read shows took effect after an earlier read
			// saw y absent.
			name: "good", fixture: "lin-ok", required: true, want: Pass, ops: 8, keys: 2,
		},
		{
			// clean outage: a timed-out write (a5) that nobody observes.
			name: "good, with an outage", fixture: "rto-clean", required: true, want: Pass, ops: 11, keys: 1,
		},
		{
			// Three indeterminate writes a, b, c (c never completes), read
			// back in that order while ledger writes go on.
			name: "indeterminate writes that took effect", fixture: "rto-indeterminate", required: true, want: Pass, ops: 13, keys: 6,
		},
		{
			// write x=1 [1,2], write x=2 [3,4], then read x [5,6] -> 1.
			name: "stale read", fixture: "lin-stale-read", required: true, want: Fail, ops: 3, keys: 1,
			detail: []string{`key x: read(x) -> "1" [process 1, history index 4, node n2] cannot be placed`},
		},
		{
			// Two primaries: both cas x a->b (n1) and a->c (n2) succeed.
			name: "split brain", fixture: "lin-split-brain", required: true, want: Fail, ops: 5, keys: 1,
			detail: []string{`key x: cas(x, "a" -> "c") [process 1, history index 3, node n2] cannot be placed`},
		},
		{
			// write x=1, then an acknowledged cas x 5->6 although x never
			// held 5, then x reads 1.
			name: "acknowledged cas whose precondition never held", fixture: "lin-cas-impossible", required: true, want: Fail, ops: 3, keys: 1,
			detail: []string{`cas(x, "5" -> "6")`},
		},
		{
			// write x=1 acknowledged and read back, then after a failover
			// x reads absent; key y is fine and is not named.
			name: "lost acknowledged write", fixture: "lin-lost-write", required: true, want: Fail, ops: 5, keys: 2,
			detail: []string{`key x: read(x) -> absent`, "covers 2 of 3 operations"},
		},
		{
			// write x=1 failed (certainly did not happen), yet x reads 1.
			name: "failed write observed", fixture: "lin-failed-write-observed", required: true, want: Fail, ops: 1, keys: 1,
			detail: []string{`read(x) -> "1"`},
		},
		{
			name: "violation without a target passes", fixture: "lin-stale-read", want: Pass, ops: 3, keys: 1,
			detail: []string{"no target; not linearizable: key x"},
		},
		{
			// final reads count as reads: an acknowledged ledger write
			// read back absent at the end is a violation too.
			name: "final read sees a lost write", fixture: "rpo-lost", required: true, want: Fail,
			detail: []string{`final_read(ledger-0-2) -> absent`}, ops: 17, keys: 9,
		},
		{
			// process 0 gets an info and then invokes again.
			name: "process reused after info", fixture: "lin-info-reused", required: true, want: Unknown,
			detail: []string{"breaks the recorder's contract", "event 3: process: process 0 invoked again after an indeterminate result on event 2 (index 1)"},
		},
		{
			name: "empty history", fixture: "empty", required: true, want: Unknown, detail: []string{"no operations to check"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Linearizability(context.Background(), load(t, tc.fixture), tc.required, Options{})
			if r.Check.Result != tc.want {
				t.Errorf("result = %q (%s), want %q", r.Check.Result, r.Check.Detail, tc.want)
			}
			for _, d := range tc.detail {
				if !strings.Contains(r.Check.Detail, d) {
					t.Errorf("detail %q does not contain %q", r.Check.Detail, d)
				}
			}
			if r.Operations != tc.ops || r.Keys != tc.keys {
				t.Errorf("checked %d operations on %d keys, want %d on %d", r.Operations, r.Keys, tc.ops, tc.keys)
			}
		})
	}
}

// TestLinearizabilityNamesOnlyBadKeys checks that a violation on one key
// does not name the good keys.
func TestLinearizabilityNamesOnlyBadKeys(t *testing.T) {
	r := Linearizability(context.Background(), load(t, "lin-lost-write"), true, Options{})
	if strings.Contains(r.Check.Detail, "key y") {
		t.Errorf("detail names the linearizable key y: %s", r.Check.Detail)
	}
}

// TestValidate checks each rule of the recorder's contract on raw events.
func TestValidate(t *testing.T) {
	inv := func(i int64, p int, f history.Func, key string, at int64) history.Op {
		return history.Op{Index: i, Process: p, Type: history.Invoke, F: f, Key: key, Time: at}
	}
	done := func(i int64, p int, typ history.Type, f history.Func, key string, at int64) history.Op {
		return history.Op{Index: i, Process: p, Type: typ, F: f, Key: key, Time: at}
	}
	for _, tc := range []struct {
		name string
		ops  []history.Op
		want string
	}{
		{"sequential", []history.Op{inv(0, 0, history.Write, "x", 1), done(1, 0, history.OK, history.Write, "x", 2), inv(2, 0, history.Read, "x", 3)}, ""},
		{"two open", []history.Op{inv(0, 0, history.Write, "x", 1), inv(1, 0, history.Read, "x", 2)}, "event 2: process: process 0 invoked again while its invocation on event 1 (index 0) was open"},
		{"orphan completion", []history.Op{done(0, 3, history.OK, history.Read, "x", 1)}, "ok of process 3, which has no open invocation"},
		{"mismatched completion", []history.Op{inv(0, 0, history.Write, "x", 1), done(1, 0, history.OK, history.Read, "x", 2)}, "ok read(x) completes write(x)"},
		{"completion before invocation", []history.Op{inv(0, 0, history.Write, "x", 5), done(1, 0, history.OK, history.Write, "x", 2)}, "completes before its invocation"},
		{"reuse after info", []history.Op{inv(0, 0, history.Write, "x", 1), done(1, 0, history.Info, history.Write, "x", 2), inv(2, 0, history.Read, "x", 3)}, "after an indeterminate result"},
		{"unknown function", []history.Op{inv(0, 0, "delete", "x", 1)}, `unknown operation "delete"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := (Input{Ops: tc.ops}).withPairs().Contract
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// hardHistory builds a history porcupine cannot decide quickly: n writes of
// distinct values on one key, all concurrent, then a read of a value nobody
// wrote. Refuting it means trying every order of the writes.
func hardHistory(n int) []history.Op {
	var ops []history.Op
	for p := range n {
		ops = append(ops, history.Op{Process: p, Type: history.Invoke, F: history.Write, Key: "x", Value: fmt.Sprint(p), Time: int64(p)})
	}
	for p := range n {
		ops = append(ops, history.Op{Process: p, Type: history.OK, F: history.Write, Key: "x", Value: fmt.Sprint(p), Time: int64(1000 + p)})
	}
	ops = append(ops,
		history.Op{Process: n, Type: history.Invoke, F: history.Read, Key: "x", Time: 1},
		history.Op{Process: n, Type: history.OK, F: history.Read, Key: "x", Value: "nobody", Time: 2000},
	)
	for i := range ops {
		ops[i].Index = int64(i)
	}
	return ops
}

// hangGuard bounds a check that is meant to give up. It is not a timing
// assertion: hardHistory(40) has no end a test could wait for without a
// timeout (40 concurrent writes and a read no order explains; given 10 s,
// porcupine used them all), so a check that ignored its timeout or its
// context would run until the package's timeout. A minute is hundreds of times the 50 ms the tests allow, which no
// busy machine takes from a check that stops when told.
const hangGuard = time.Minute

// checkWithin runs the linearizability check in the background and fails
// the test if it has not returned after hangGuard.
func checkWithin(t *testing.T, ctx context.Context, in Input, opts Options) *LinearizabilityResult {
	t.Helper()
	done := make(chan *LinearizabilityResult, 1)
	go func() { done <- Linearizability(ctx, in, true, opts) }()
	select {
	case r := <-done:
		return r
	case <-time.After(hangGuard):
		t.Fatalf("the check still ran %s after a 50 ms limit: it does not stop when told", hangGuard)
		return nil
	}
}

// TestLinearizabilityTimeout checks that a porcupine timeout is Unknown,
// never a pass, and that the check stops (see hangGuard).
func TestLinearizabilityTimeout(t *testing.T) {
	in := Input{Ops: hardHistory(40)}
	r := checkWithin(t, context.Background(), in, Options{LinearizabilityTimeout: 50 * time.Millisecond})
	if r.Check.Result != Unknown || !strings.Contains(r.Check.Detail, "porcupine timed out after 50ms") {
		t.Errorf("got %q (%s), want unknown after a timeout", r.Check.Result, r.Check.Detail)
	}
}

// TestLinearizabilityCancel checks that an ended context gives Unknown, both
// when it ends during the check and when its deadline is shorter than the
// timeout, and that the check stops (see hangGuard).
func TestLinearizabilityCancel(t *testing.T) {
	in := Input{Ops: hardHistory(40)}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	r := checkWithin(t, ctx, in, Options{})
	if r.Check.Result != Unknown || !strings.Contains(r.Check.Detail, "context canceled") {
		t.Errorf("cancelled: got %q (%s), want unknown", r.Check.Result, r.Check.Detail)
	}
	ctx, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	r = checkWithin(t, ctx, in, Options{})
	if r.Check.Result != Unknown {
		t.Errorf("deadline: got %q (%s), want unknown", r.Check.Result, r.Check.Detail)
	}
}

// TestWriteVisualization checks that a failed check can be drawn, with the
// faults as annotations, and that a check that never ran says so.
func TestWriteVisualization(t *testing.T) {
	in := load(t, "rpo-lost")
	r := Linearizability(context.Background(), in, true, Options{})
	var buf bytes.Buffer
	if err := r.WriteVisualization(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<html", "final_read(ledger-0-2) -\\u003e absent", "kill primary"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("visualization lacks %q", want)
		}
	}
	none := Linearizability(context.Background(), load(t, "lin-info-reused"), true, Options{})
	if err := none.WriteVisualization(&buf); err == nil {
		t.Error("visualizing a check that did not run: no error")
	}
}

// TestPassKeepsNoLinearization checks that a check that passes drops
// porcupine's linearization info (it would cost as much memory as the
// history), so there is nothing to draw.
func TestPassKeepsNoLinearization(t *testing.T) {
	r := Linearizability(context.Background(), load(t, "lin-ok"), true, Options{})
	if r.Check.Result != Pass {
		t.Fatalf("got %q (%s), want pass", r.Check.Result, r.Check.Detail)
	}
	if r.ran || r.info.PartialLinearizations() != nil {
		t.Error("a passing check kept porcupine's linearization info")
	}
	if err := r.WriteVisualization(io.Discard); err == nil {
		t.Error("visualizing a passing check: no error")
	}
}

// TestLinearizabilityKeyByKey checks the batched check (checkByKey) on a
// history of many batches: it passes a linearizable one, and a read changed
// to a value nobody wrote, on the register key that appears last (so in a
// late batch), fails the check, with the detail naming that key and a
// drawing, as the whole-history check gives; so does a read of a value
// nobody wrote alone on its key.
func TestLinearizabilityKeyByKey(t *testing.T) {
	ops := concurrentHistory(7, 6*batchOps, 200, 8)
	in := Input{Ops: ops}
	if n := len(cutBatches(groupByKey(in.paired()))) - 1; n < 4 {
		t.Fatalf("%d batches; the test wants several", n)
	}
	if r := Linearizability(context.Background(), in, true, Options{}); r.Check.Result != Pass {
		t.Fatalf("got %q (%s), want pass", r.Check.Result, r.Check.Detail)
	}
	g := groupByKey(in.paired())
	last := ""
	for k := g.keys() - 1; k >= 0 && last == ""; k-- {
		if key := in.paired()[g.order[g.start[k]]].Invoke.Key; !strings.HasPrefix(key, history.LedgerPrefix) {
			last = key
		}
	}
	i := slices.IndexFunc(ops, func(op history.Op) bool {
		return op.Key == last && op.F == history.Read && op.Type == history.OK
	})
	if i < 0 {
		t.Fatalf("no ok read of %s", last)
	}
	// A key with one operation is checked without porcupine's search:
	// a read of a value nobody wrote, alone on its key, still fails.
	end := ops[len(ops)-1]
	lone := append(slices.Clone(ops),
		history.Op{Index: end.Index + 1, Process: 1000, Type: history.Invoke, F: history.Read, Key: "lone", Time: end.Time + 1},
		history.Op{Index: end.Index + 2, Process: 1000, Type: history.OK, F: history.Read, Key: "lone", Value: "ghost", Time: end.Time + 2})
	if r := Linearizability(context.Background(), Input{Ops: lone}, true, Options{}); r.Check.Result != Fail || !strings.Contains(r.Check.Detail, "key lone: ") {
		t.Errorf("lone read: got %q (%s), want fail naming key lone", r.Check.Result, r.Check.Detail)
	}
	ops[i].Value = "nobody"
	r := Linearizability(context.Background(), Input{Ops: ops}, true, Options{})
	want := "key " + last + ": "
	if r.Check.Result != Fail || !strings.Contains(r.Check.Detail, want) {
		t.Errorf("got %q (%s), want fail naming %s", r.Check.Result, r.Check.Detail, want)
	}
	if err := r.WriteVisualization(io.Discard); err != nil {
		t.Errorf("visualizing the failure: %v", err)
	}
}
