package history

import (
	"errors"
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
	if err != nil || torn || !reflect.DeepEqual(got, ops) {
		t.Fatalf("read back %+v, torn %v, err %v", got, torn, err)
	}
	if !got[3].Served() || got[2].Served() {
		t.Error("a 412 CAS is served; an invocation is not")
	}
}

// TestDecodeBrokenLineNamesFileAndLine: a bad line in the middle is an
// error naming the file and line; a torn last line (a crash mid-write)
// leaves the prefix, flagged as torn.
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
	ops, torn, err := Decode[Op](strings.NewReader(good+good+`{"index":2,"pro`), "h.jsonl")
	if err != nil || !torn || len(ops) != 2 {
		t.Fatalf("torn tail: %d ops, torn %v, err %v; want the 2-line prefix", len(ops), torn, err)
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
