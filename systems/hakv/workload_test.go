package hakv

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/workload"
	"github.com/hadrill/hadrill/workload/workloadtest"
)

// These tests drive the system-agnostic workload engine through the hakv
// client against a fake hakv, so that routing by the 503 hint, timeouts and
// the final read are covered over real HTTP.

// TestRunFollowsPrimaryHint checks that clients skip an unreachable node,
// follow the 503 hint to the primary, record it as the answering node, and
// follow a failover.
func TestRunFollowsPrimaryHint(t *testing.T) {
	fc := newFakeCluster(t, "n1", "n2", "n3")
	fc.setPrimary("n3")
	eps := fc.endpoints()
	eps["n1"] = refusedAddr(t) // tried first, as nodes are sorted
	kv := NewClient(eps, 2)
	defer kv.CloseIdleConnections()
	time.AfterFunc(300*time.Millisecond, func() { fc.setPrimary("n2") })
	cfg := workload.Config{Clients: 2, Rate: 100, Duration: 700 * time.Millisecond, Keys: 4}
	_, ops, st := workloadtest.RunFor(t, kv, cfg)
	nodes := map[string]int{}
	for _, op := range workloadtest.Completions(ops) {
		cas412 := op.F == history.CAS && op.Type == history.Fail && strings.Contains(op.Error, workload.ErrPrecondition.Error())
		if op.Type != history.OK && !cas412 {
			t.Fatalf("op %d: %s (%s), want ok (or a CAS mismatch): routing should hide refusals", op.Index, op.Type, op.Error)
		}
		nodes[op.Node]++
	}
	if nodes["n3"] == 0 || nodes["n2"] == 0 || nodes["n1"] != 0 {
		t.Errorf("answering nodes = %v, want n3 then n2, never n1", nodes)
	}
	if st.Primary != "n2" {
		t.Errorf("stats primary = %q, want n2", st.Primary)
	}
	if fc.hitCount("n3") == 0 || fc.hitCount("n2") == 0 {
		t.Errorf("hits n2=%d n3=%d", fc.hitCount("n2"), fc.hitCount("n3"))
	}
}

// TestRunHistorySequential writes a run with timeouts, 500s and refusals to a
// real history file and checks the file's invariants.
func TestRunHistorySequential(t *testing.T) {
	fc := newFakeCluster(t, "n1", "n2")
	fc.setPrimary("n2")
	var n atomic.Int64
	fc.setChaos(func(node string, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/status" || r.URL.RawQuery == "prefix=ledger-" {
			return false // let the final read through
		}
		switch n.Add(1) % 7 {
		case 0:
			time.Sleep(80 * time.Millisecond) // beyond the op timeout
		case 1:
			http.Error(w, "boom", http.StatusInternalServerError)
		case 2:
			fc.setPrimary(map[string]string{"n1": "n2", "n2": "n1"}[fc.primaryName()])
			return false
		default:
			return false
		}
		return true
	})
	path := filepath.Join(t.TempDir(), "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	kv := NewClient(fc.endpoints(), 4)
	defer kv.CloseIdleConnections()
	r := workload.NewRunner(kv, workload.NewRecorder(w, time.Now()))
	// Timeouts and 500s are info for writes, failovers give 503s: the history
	// mixes all outcomes and switches processes.
	if _, err := r.Run(context.Background(), workload.Config{Clients: 4, Rate: 400, Duration: 400 * time.Millisecond, OpTimeout: 40 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.FinalRead(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ops, torn, err := history.ReadFile[history.Op](path)
	if err != nil || torn != nil || len(ops) == 0 {
		t.Fatalf("read history: %d ops, torn %v, %v", len(ops), torn, err)
	}
	workloadtest.CheckSequential(t, ops)
	types := map[history.Type]int{}
	for _, op := range ops {
		types[op.Type]++
	}
	if types[history.OK] == 0 || types[history.Fail] == 0 || types[history.Info] == 0 {
		t.Fatalf("outcomes %v: want ok, fail and info all present", types)
	}
}
