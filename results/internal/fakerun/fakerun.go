// Package fakerun makes synthetic runs for the tests of results and the
// packages below it: a verdict, and on demand a run folder with a history
// of writes and reads around one kill fault, shaped by a few numbers. It
// exists so that every report and statistic is tested against the same
// runs, written once.
package fakerun

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
)

// Run describes a synthetic run: a workload of writes and reads from a
// few processes, one kill fault, and an outage in which writes fail.
type Run struct {
	Scenario string
	Started  time.Time
	Seconds  int     // length of the workload
	FaultAt  float64 // fault requested, s
	HealAt   float64 // fault healed, s (0: never)
	Outage   float64 // s of failed writes after FaultAt
	RTO      *float64
	Lost     float64
	Avail    float64
	P99Write float64                  // s
	Result   checker.Result           // the verdict; "" merges the checks
	Checks   map[string]checker.Check // overrides
}

// T0 is when the synthetic runs start, unless a test says otherwise.
var T0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// F64 points at v, for the optional numbers of checks and faults.
func F64(v float64) *float64 { return &v }

// Write creates the run folder under root (scenario.yaml, history.jsonl,
// verdict.json and run.json, whose run_id is unique to the run) and
// returns it.
func (r Run) Write(t testing.TB, root string) results.RunDir {
	t.Helper()
	dir, err := results.NewRunDir(root, r.Scenario, r.Started)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir.File(results.ScenarioFile), []byte("name: "+r.Scenario+"\nseed: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ops := r.History()
	hw, err := history.Create(dir.File(results.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if err := hw.Append(op); err != nil {
			t.Fatal(err)
		}
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteVerdict(dir, r.Verdict()); err != nil {
		t.Fatal(err)
	}
	meta := results.Meta{RunID: fmt.Sprintf("%s-%d", r.Scenario, r.Started.UnixNano()), Seed: 1,
		Started: r.Started, LoadStart: r.Started, Finished: r.Started.Add(time.Duration(r.Seconds+1) * time.Second)}
	if err := results.WriteMeta(dir, meta); err != nil {
		t.Fatal(err)
	}
	return dir
}

// History has 4 processes, each invoking an op every 100 ms: writes ok on
// n1 before the fault, failing during the outage, ok on n2 after it.
func (r Run) History() []history.Op {
	var ops []history.Op
	idx := int64(0)
	for ms := int64(0); ms < int64(r.Seconds)*1000; ms += 100 {
		for p := range 4 {
			inv := ms*1e6 + int64(p)*20e6
			done := inv + 5e6 + int64(p)*1e6
			f := history.Write
			if p == 3 {
				f = history.Read
			}
			key := fmt.Sprintf("k%d", p)
			ops = append(ops, history.Op{Index: idx, Process: p, Type: history.Invoke, F: f, Key: key, Value: "v", Time: inv})
			idx++
			c := history.Op{Index: idx, Process: p, Type: history.OK, F: f, Key: key, Value: "v", Time: done, Node: "n1"}
			sec := float64(inv) / 1e9
			switch {
			case sec >= r.FaultAt+r.Outage:
				c.Node = "n2"
			case sec >= r.FaultAt:
				c.Type, c.Node, c.Error = history.Fail, "", "unavailable"
			}
			ops = append(ops, c)
			idx++
		}
	}
	return ops
}

// Verdict is the run's verdict: every check passes unless the run lost
// writes or never recovered, or Checks overrides it.
func (r Run) Verdict() *results.Verdict {
	healed := (*float64)(nil)
	if r.HealAt > 0 {
		healed = F64(r.HealAt)
	}
	checks := map[string]checker.Check{
		checker.CheckLinearizability: {Result: checker.Pass},
		checker.CheckRTO: {Result: checker.Pass, Value: r.RTO, Target: F64(5), Unit: "seconds",
			PerFault: []*float64{r.RTO}, Unbounded: r.RTO == nil},
		checker.CheckRPO:          {Result: checker.Pass, Value: F64(r.Lost), Target: F64(0), Unit: "writes"},
		checker.CheckAvailability: {Result: checker.Pass, Value: F64(r.Avail), Target: F64(0.9), Unit: "ratio"},
	}
	if r.RTO == nil {
		c := checks[checker.CheckRTO]
		c.Result = checker.Fail
		checks[checker.CheckRTO] = c
	}
	if r.Lost > 0 {
		c := checks[checker.CheckRPO]
		c.Result = checker.Fail
		checks[checker.CheckRPO] = c
	}
	for k, c := range r.Checks {
		checks[k] = c
	}
	merged := []checker.Result{}
	for _, c := range checks {
		merged = append(merged, c.Result)
	}
	verdict := r.Result
	if verdict == "" {
		verdict = checker.Merge(merged...)
	}
	return &results.Verdict{
		Scenario: r.Scenario, Seed: 1, Verdict: verdict, Started: r.Started,
		DurationSeconds: float64(r.Seconds) + 1, Checks: checks,
		Ops: checker.OpCounts{Total: r.Seconds * 40, OK: int(r.Avail * float64(r.Seconds*40))},
		Faults: []results.FaultRecord{{ID: 0, Kind: "kill", Target: "primary", Nodes: []string{"n1"},
			Scheduled: r.FaultAt, Requested: r.FaultAt, Effective: F64(r.FaultAt + 0.02),
			Healed: healed, RTO: r.RTO, Availability: F64(0.5)}},
		Latency: checker.LatencyReport{Run: map[string]checker.LatencySummary{
			"write": {Count: 100, P50: 0.005, P95: 0.007, P99: r.P99Write, Max: 0.2},
			"all":   {Count: 130, P50: 0.005, P95: 0.007, P99: r.P99Write, Max: 0.2},
		}},
	}
}

// Default is a passing kill-primary run.
func Default(started time.Time) Run {
	return Run{Scenario: "kill-primary", Started: started, Seconds: 40, FaultAt: 10, HealAt: 25,
		Outage: 2.5, RTO: F64(2.5), Avail: 0.95, P99Write: 0.008}
}

// ReadFile returns a file's content, failing the test when it cannot.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ListDir lists a folder, for a failing test's message.
func ListDir(t testing.TB, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*"))
	return m
}

// WriteDrill writes, under a new results folder it returns, ten kill-primary runs a week apart (RTO 1..10 s, the
// 7th losing 4 writes) and three partition runs (the last unbounded), and
// marks the latest of each, as the runner does.
func WriteDrill(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "results")
	var last results.RunDir
	for i := range 10 {
		r := Default(T0.Add(time.Duration(i) * 7 * 24 * time.Hour))
		r.RTO = F64(float64(i + 1))
		if i == 6 {
			r.Lost = 4
		}
		last = r.Write(t, root)
	}
	if err := last.MarkLatest(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r := Default(T0.Add(time.Duration(i) * 24 * time.Hour))
		r.Scenario = "partition-primary"
		r.RTO = F64(3)
		if i == 2 {
			r.RTO, r.HealAt = nil, 0
			r.Checks = nil
		}
		last = r.Write(t, root)
	}
	if err := last.MarkLatest(); err != nil {
		t.Fatal(err)
	}
	return root
}
