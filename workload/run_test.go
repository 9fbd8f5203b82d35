package workload_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/workload"
	"github.com/hadrill/hadrill/workload/workloadtest"
)

// TestRunNewProcessAfterInfo checks that a client continues as a new process
// (old + clients) after an indeterminate result, and never reuses the old id.
func TestRunNewProcessAfterInfo(t *testing.T) {
	kv := workload.NewScriptKV("n1")
	var writes atomic.Int64
	kv.Inject = func(_ string, f history.Func, _ string) error {
		if f != history.Read && writes.Add(1)%4 == 0 {
			return errors.New("timeout after send")
		}
		return nil
	}
	const clients = 3
	_, ops, st := workloadtest.RunFor(t, kv, workload.Config{Clients: clients, Rate: 600, Duration: 300 * time.Millisecond})
	workloadtest.CheckSequential(t, ops)
	retired := map[int]bool{}
	infos := 0
	for _, op := range ops {
		if retired[op.Process] {
			t.Fatalf("op %d uses process %d after it saw info", op.Index, op.Process)
		}
		if op.Type == history.Info {
			infos++
			retired[op.Process] = true
		}
	}
	if infos == 0 {
		t.Fatal("no info results; the test injected none")
	}
	last := map[int]int{} // client -> its highest process id
	for _, op := range ops {
		last[op.Process%clients] = max(last[op.Process%clients], op.Process)
	}
	for p := range retired {
		// The successor is p+clients, unless the client stopped right after.
		if next := p + clients; !used(ops, next) && p != last[p%clients] {
			t.Errorf("process %d saw info but %d never ran", p, next)
		}
	}
	if st.Processes != int64(clients+infos) {
		t.Errorf("stats processes = %d, want %d", st.Processes, clients+infos)
	}
}

func used(ops []history.Op, process int) bool {
	for _, op := range ops {
		if op.Process == process {
			return true
		}
	}
	return false
}

// TestRunUniqueValues checks that every written value is unique and never
// empty, and that ledger keys are fresh ledger-<process>-<seq> keys.
func TestRunUniqueValues(t *testing.T) {
	_, ops, _ := workloadtest.RunFor(t, workload.NewScriptKV("n1"), workload.Config{Clients: 4, Rate: 2000, Duration: 200 * time.Millisecond})
	seen := map[string]bool{}
	ledger := 0
	for _, op := range ops {
		if op.Type != history.Invoke || op.F == history.Read {
			continue
		}
		if op.Value == "" || seen[op.Value] {
			t.Fatalf("op %d writes %q: empty or written before", op.Index, op.Value)
		}
		seen[op.Value] = true
		if op.IsLedger() {
			ledger++
			if op.Key != history.LedgerPrefix+op.Value || !strings.HasPrefix(op.Value, strconv.Itoa(op.Process)+"-") {
				t.Fatalf("ledger op %d: key %q value %q process %d", op.Index, op.Key, op.Value, op.Process)
			}
		}
	}
	if len(seen) < 50 || ledger == 0 {
		t.Fatalf("only %d writes (%d ledger); the check is vacuous", len(seen), ledger)
	}
}

// TestRunRateBounded checks the upper bound the pacer promises: at most
// rate*duration ops plus one per client (with 20% slack for slow timers).
// Speed itself is for benchmarks; this only bounds from above.
func TestRunRateBounded(t *testing.T) {
	const rate, clients = 400.0, 4
	d := 500 * time.Millisecond
	_, _, st := workloadtest.RunFor(t, workload.NewScriptKV("n1"), workload.Config{Clients: clients, Rate: rate, Duration: d})
	if limit := int64(rate*d.Seconds()*1.2) + clients; st.Total > limit || st.Total == 0 {
		t.Fatalf("ops = %d, want 1..%d", st.Total, limit)
	}
}

// TestRecorderStickyError checks that a sink error stops the run and is
// returned, rather than leaving a history with holes.
func TestRecorderStickyError(t *testing.T) {
	sink := &workloadtest.MemSink{}
	r := workload.NewRunner(workload.NewScriptKV("n1"), workload.NewRecorder(sink, time.Now()))
	time.AfterFunc(50*time.Millisecond, func() {
		sink.Fail(errors.New("disk full"))
	})
	_, err := r.Run(context.Background(), workload.Config{Clients: 2, Rate: 1000, Duration: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the sink's error", err)
	}
}

// TestStatsMatchHistory checks that the live counters agree with the history
// and can be read while the run is going.
func TestStatsMatchHistory(t *testing.T) {
	kv := workload.NewScriptKV("n1")
	var k atomic.Int64
	kv.Inject = func(_ string, f history.Func, _ string) error {
		if k.Add(1)%5 == 0 {
			return errors.New("reset after send")
		}
		return nil
	}
	sink := &workloadtest.MemSink{}
	r := workload.NewRunner(kv, workload.NewRecorder(sink, time.Now()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			_ = r.Stats()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	st, err := r.Run(context.Background(), workload.Config{Clients: 3, Rate: 500, Duration: 300 * time.Millisecond})
	<-done
	if err != nil {
		t.Fatal(err)
	}
	want := map[history.Type]int64{}
	for _, op := range workloadtest.Completions(sink.All()) {
		want[op.Type]++
	}
	if st.OK != want[history.OK] || st.Fail != want[history.Fail] || st.Info != want[history.Info] ||
		st.Total != st.OK+st.Fail+st.Info || st.Rate <= 0 || st.Primary != "n1" {
		t.Fatalf("stats %+v, history outcomes %v", st, want)
	}
	if st.AckedLedger != int64(len(r.AckedLedger())) {
		t.Errorf("stats acked %d, runner acked %d", st.AckedLedger, len(r.AckedLedger()))
	}
}
