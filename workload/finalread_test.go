package workload_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/workload"
	"github.com/hadrill/hadrill/workload/workloadtest"
)

// finalRunner is a Runner that has "run": it knows acked ledger keys.
func finalRunner(kv workload.KV, acked ...string) (*workload.Runner, *workloadtest.MemSink) {
	sink := &workloadtest.MemSink{}
	r := workload.NewRunner(kv, workload.NewRecorder(sink, time.Now()))
	workload.SetRan(r, 9, acked...)
	return r, sink
}

// finalReads returns key -> completion of the final_read ops, checking that
// each key has exactly one invoke/completion pair on the final process.
func finalReads(t *testing.T, ops []history.Op) map[string]history.Op {
	t.Helper()
	workloadtest.CheckSequential(t, ops)
	out := map[string]history.Op{}
	for _, op := range ops {
		if op.F != history.FinalRead || op.Process != 9 {
			t.Fatalf("op %d: %s by process %d, want final_read by 9", op.Index, op.F, op.Process)
		}
		if op.Type != history.Invoke {
			if _, dup := out[op.Key]; dup {
				t.Fatalf("key %s read back twice", op.Key)
			}
			out[op.Key] = op
		}
	}
	return out
}

// TestFinalReadPresentAndAbsent checks ok with the value for a key that
// survived and ok with "" for a lost one.
func TestFinalReadPresentAndAbsent(t *testing.T) {
	kv := workload.NewScriptKV("n1")
	kv.Data["ledger-0-1"] = "0-1"
	kv.Data["ledger-1-2"] = "1-2" // not acknowledged: not read back
	r, sink := finalRunner(kv, "ledger-0-1", "ledger-0-3")
	st, err := r.FinalRead(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := workload.FinalStats{Acked: 2, Present: 1, Absent: 1, Node: "n1"}
	if st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	got := finalReads(t, sink.All())
	if len(got) != 2 {
		t.Fatalf("read back %d keys, want 2", len(got))
	}
	if op := got["ledger-0-1"]; op.Type != history.OK || op.Value != "0-1" || op.Node != "n1" {
		t.Errorf("present key: %+v", op)
	}
	if op := got["ledger-0-3"]; op.Type != history.OK || op.Value != "" {
		t.Errorf("lost key: %+v, want ok with empty value", op)
	}
}

// TestFinalReadNoPrimary checks that when no primary answers before the
// deadline every final read is a fail with the reason, and the error says so.
func TestFinalReadNoPrimary(t *testing.T) {
	kv := workload.NewScriptKV("n1", "n2")
	kv.Data["ledger-0-1"] = "0-1"
	kv.Inject = func(node string, _ history.Func, _ string) error {
		return &workload.NotPrimaryError{Node: node}
	}
	r, sink := finalRunner(kv, "ledger-0-1", "ledger-0-2")
	st, err := r.FinalRead(context.Background(), 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not primary") {
		t.Fatalf("err = %v, want no primary", err)
	}
	if st.Failed != 2 || st.Present+st.Absent != 0 {
		t.Errorf("stats = %+v, want 2 failed", st)
	}
	for key, op := range finalReads(t, sink.All()) {
		if op.Type != history.Fail || op.Error == "" {
			t.Errorf("%s: %+v, want fail with the reason", key, op)
		}
	}
}

// TestFinalReadFindsPrimary checks that the scan goes to the node that is
// the primary, even when the clients last saw another one, and that a
// standby is not scanned: only n3 holds the key.
func TestFinalReadFindsPrimary(t *testing.T) {
	sk := workload.NewScriptKV("n1", "n2", "n3")
	sk.Data["ledger-0-1"] = "0-1"
	kv := &roleKV{ScriptKV: sk, roles: map[string]string{"n1": "standby", "n2": "standby", "n3": "primary"},
		data: map[string]map[string]string{"n3": sk.Data}}
	r, sink := finalRunner(kv, "ledger-0-1")
	workload.SetPrimarySeen(r, "n1")
	st, err := r.FinalRead(context.Background(), 2*time.Second)
	if err != nil || st.Node != "n3" || st.Present != 1 {
		t.Fatalf("final read = %+v, %v; want one present key from n3", st, err)
	}
	if op := finalReads(t, sink.All())["ledger-0-1"]; op.Node != "n3" {
		t.Errorf("final read answered by %q, want n3", op.Node)
	}
}

// TestFinalReadNothingAcked records nothing when no ledger write was acked.
func TestFinalReadNothingAcked(t *testing.T) {
	r, sink := finalRunner(workload.NewScriptKV("n1"))
	if st, err := r.FinalRead(context.Background(), time.Second); err != nil || st.Acked != 0 {
		t.Fatalf("final read = %+v, %v", st, err)
	}
	if n := len(sink.All()); n != 0 {
		t.Fatalf("%d events recorded, want none", n)
	}
}

// roleKV is a scriptKV whose nodes report roles and hold their own data:
// the state after a split brain, when two nodes claim to be primary.
type roleKV struct {
	*workload.ScriptKV
	roles map[string]string
	data  map[string]map[string]string
}

func (k *roleKV) Role(_ context.Context, node string) (string, string, error) {
	return k.roles[node], "", nil
}

func (k *roleKV) Scan(_ context.Context, node, prefix string) (map[string]string, error) {
	out := map[string]string{}
	for key, v := range k.data[node] {
		if strings.HasPrefix(key, prefix) {
			out[key] = v
		}
	}
	return out, nil
}

// TestFinalReadReadsEveryClaimedPrimary checks that after a split brain
// both primaries' copies are read back, each under its own process, so a
// write one of them lacks shows as lost.
func TestFinalReadReadsEveryClaimedPrimary(t *testing.T) {
	kv := &roleKV{
		ScriptKV: workload.NewScriptKV("n1", "n2", "n3"),
		roles:    map[string]string{"n1": "primary", "n2": "primary", "n3": "standby"},
		data: map[string]map[string]string{
			"n1": {"ledger-0-1": "0-1", "ledger-0-2": "0-2"},
			"n2": {"ledger-0-1": "0-1"},
			"n3": {"ledger-0-1": "0-1", "ledger-0-2": "0-2"},
		},
	}
	r, sink := finalRunner(kv, "ledger-0-1", "ledger-0-2")
	st, err := r.FinalRead(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.Absent != 1 {
		t.Errorf("absent = %d, want 1 (ledger-0-2 on n2)", st.Absent)
	}
	byNode := map[string]map[string]string{}
	procs := map[string]int{}
	for _, op := range sink.All() {
		if op.Type == history.Invoke {
			continue
		}
		if byNode[op.Node] == nil {
			byNode[op.Node] = map[string]string{}
		}
		byNode[op.Node][op.Key] = op.Value
		procs[op.Node] = op.Process
	}
	if len(byNode) != 2 || byNode["n3"] != nil {
		t.Fatalf("final reads came from %v, want exactly the two primaries n1 and n2", byNode)
	}
	if byNode["n2"]["ledger-0-2"] != "" || byNode["n1"]["ledger-0-2"] != "0-2" {
		t.Errorf("n1 %v, n2 %v: want ledger-0-2 present on n1 and absent on n2", byNode["n1"], byNode["n2"])
	}
	if procs["n1"] == procs["n2"] {
		t.Errorf("both primaries read back under process %d: each needs its own", procs["n1"])
	}
}
