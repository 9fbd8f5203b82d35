package history

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWriterThenReadFileRoundTrips(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	ops := []Op{
		{Index: 0, Process: 1, Type: Invoke, F: Write, Key: "k1", Value: "1-1", Time: 10},
		{Index: 1, Process: 1, Type: OK, F: Write, Key: "k1", Value: "1-1", Time: 20, Node: "n1"},
		{Index: 2, Process: 2, Type: Invoke, F: CAS, Key: "k1", From: "x", Value: "2-1", Time: 30},
		{Index: 3, Process: 2, Type: Fail, F: CAS, Key: "k1", From: "x", Value: "2-1", Time: 40, Error: Precondition},
	}
	for _, op := range ops {
		if err := w.Append(op); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, torn, err := ReadFile[Op](path)
	if err != nil || torn != nil || !reflect.DeepEqual(got, ops) {
		t.Fatalf("read back %+v, torn %v, err %v", got, torn, err)
	}
	if !got[3].Served() || got[2].Served() {
		t.Error("a 412 CAS is served; an invocation is not")
	}
}

// TestDecodeBrokenLineNamesFileAndLine: a bad line in the middle is an
// error naming the file and line.
func TestDecodeBrokenLineNamesFileAndLine(t *testing.T) {
	good := `{"index":0,"process":0,"type":"invoke","f":"read","key":"k","time":1}` + "\n"
	_, _, err := Decode[Op](strings.NewReader(good+"{broken\n"+good), "h.jsonl")
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.HasPrefix(err.Error(), "h.jsonl:2: ") {
		t.Fatalf("err = %v, want h.jsonl:2", err)
	}
	_, _, err = Decode[Op](strings.NewReader(`{"index":0,"colour":"red"}`+"\n"), "h.jsonl")
	if err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("unknown field accepted: %v", err)
	}
}

// TestTornLastLineIsTheOneToleratedDamage holds both readers (Decode and
// ReadOperations) to one rule: a last line cut off before its end, with or
// without a newline (and blank lines) after it, is dropped with a warning
// naming file:line; anything else malformed is an error naming file:line,
// a complete but bad last line and a cut-off line that is not the last
// included.
func TestTornLastLineIsTheOneToleratedDamage(t *testing.T) {
	inv := `{"index":0,"process":0,"type":"invoke","f":"read","key":"k","time":1}` + "\n"
	ok := `{"index":1,"process":0,"type":"ok","f":"read","key":"k","value":"v","time":2}` + "\n"
	cut := `{"index":2,"process":0,"type":"inv`
	for _, tc := range []struct {
		name, data string
		torn       int // line of the torn last line, 0 for none
		errLine    int // line of the error, 0 for none
	}{
		{"cut off, no newline", inv + ok + cut, 3, 0},
		{"cut off, then a newline", inv + ok + cut + "\n", 3, 0},
		{"cut off, then blank lines", inv + ok + cut + "\n \n\n", 3, 0},
		{"cut off, not the last line", inv + cut + "\n" + ok, 0, 2},
		{"complete but bad last line, no newline", inv + ok + `{"index":2,"colour":"red"}`, 0, 3},
		{"malformed last line", inv + ok + "{broken\n", 0, 3},
		{"whole", inv + ok, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, torn, err := Decode[Op](strings.NewReader(tc.data), "h.jsonl")
			p, perr := readOperations(strings.NewReader(tc.data), "h.jsonl", 0, ReadOptions{})
			for reader, got := range map[string]struct {
				torn *Torn
				err  error
				n    int
			}{"Decode": {torn, err, len(ops)}, "ReadOperations": {p.Warning, perr, p.Events}} {
				var le *LineError
				switch {
				case tc.errLine > 0 && (!errors.As(got.err, &le) || le.Line != tc.errLine ||
					!strings.HasPrefix(got.err.Error(), fmt.Sprintf("h.jsonl:%d: ", tc.errLine))):
					t.Errorf("%s: err = %v, want one on h.jsonl:%d", reader, got.err, tc.errLine)
				case tc.errLine == 0 && got.err != nil:
					t.Errorf("%s: err = %v", reader, got.err)
				case tc.torn == 0 && got.torn != nil:
					t.Errorf("%s: torn %v, want none", reader, got.torn)
				case tc.torn > 0 && (got.torn == nil || got.n != 2 ||
					!strings.HasPrefix(got.torn.String(), fmt.Sprintf("h.jsonl:%d: warning: ", tc.torn))):
					t.Errorf("%s: torn %v with %d events, want a warning on h.jsonl:%d and 2 events", reader, got.torn, got.n, tc.torn)
				}
			}
			if p.Torn != (tc.torn > 0) {
				t.Errorf("Paired.Torn = %v", p.Torn)
			}
		})
	}
}

// TestContractBreachNamesLineAndField: a duplicated history line is
// reported by the line it is on and the field at fault, and named as a
// duplicate of the line before it; an in-memory history by event position.
func TestContractBreachNamesLineAndField(t *testing.T) {
	inv := `{"index":0,"process":0,"type":"invoke","f":"read","key":"k","time":1}` + "\n"
	ok := `{"index":1,"process":0,"type":"ok","f":"read","key":"k","value":"v","time":2}` + "\n"
	for _, tc := range []struct{ name, data, want string }{
		{"duplicated invocation", "\n" + inv + inv + ok,
			"h.jsonl:3: process: process 0 invoked again while its invocation on line 2 (index 0) was open, and is a copy of it (a duplicated line)"},
		{"duplicated completion", inv + ok + ok,
			"h.jsonl:3: process: ok of process 0, which has no open invocation; its last completion is on line 2, and is a copy of it (a duplicated line)"},
		{"completion of another key", inv + strings.Replace(ok, `"key":"k"`, `"key":"j"`, 1),
			"h.jsonl:2: key: ok read(j) completes read(k) invoked on line 1 (index 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := readOperations(strings.NewReader(tc.data), "h.jsonl", 0, ReadOptions{})
			if err != nil || p.Contract == nil || p.Contract.Error() != tc.want {
				t.Errorf("contract = %v (err %v),\nwant %s", p.Contract, err, tc.want)
			}
		})
	}
	ops, _, err := Decode[Op](strings.NewReader(inv+inv), "h.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	p := NewPairer(2)
	for i := range ops {
		p.Add(&ops[i])
	}
	if _, err := p.Result(); err == nil || !strings.HasPrefix(err.Error(), "event 2: process: process 0 invoked again while its invocation on event 1 ") {
		t.Errorf("in-memory breach = %v, want it placed by event", err)
	}
}

func TestReadFileMissingIsNotExist(t *testing.T) {
	_, _, err := ReadFile[Op](filepath.Join(t.TempDir(), "none.jsonl"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestPairLeavesUnfinishedOpsOpen(t *testing.T) {
	ops := []Op{
		{Index: 0, Process: 1, Type: Invoke, F: Write, Key: "a", Value: "1", Time: 1},
		{Index: 1, Process: 2, Type: Invoke, F: Read, Key: "a", Time: 2},
		{Index: 2, Process: 2, Type: OK, F: Read, Key: "a", Value: "1", Time: 3},
	}
	p := Pair(ops)
	if len(p) != 2 || p[0].Outcome() != Info || p[1].Outcome() != OK || p[1].Completion.Value != "1" {
		t.Fatalf("pairs %+v", p)
	}
}

func TestFoldFaultsKeepsLatestPerNodeStage(t *testing.T) {
	events := []FaultEvent{
		{Fault: 0, Type: FaultScheduled, Kind: "partition", Target: "isolate:primary", At: 10},
		{Fault: 0, Type: FaultRequested, Kind: "partition", Time: 11},
		{Fault: 0, Type: FaultEffective, Kind: "partition", Node: "n1", Time: 13},
		{Fault: 0, Type: FaultEffective, Kind: "partition", Node: "n2", Time: 12},
		{Fault: 0, Type: FaultHealed, Kind: "partition", Node: "n1", Time: 30, Measured: map[string]float64{"packets_dropped": 7}},
		{Fault: 1, Type: FaultScheduled, Kind: "kill", Target: "primary", At: 40},
	}
	fs := FoldFaults(events)
	if len(fs) != 2 {
		t.Fatalf("folded %d faults", len(fs))
	}
	f := fs[0]
	if f.At != 10 || f.Requested != 11 || f.Effective != 13 || f.Healed != 30 || f.Measured["packets_dropped"] != 7 ||
		!reflect.DeepEqual(f.Nodes, []string{"n1", "n2"}) || !f.Active(20) || f.Active(30) {
		t.Fatalf("fault 0 = %+v", f)
	}
	if fs[1].Requested != 0 {
		t.Fatalf("a fault only scheduled has no request time: %+v", fs[1])
	}
}
