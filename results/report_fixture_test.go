package results

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
)

// fakeRun describes a synthetic run: a workload of writes and reads from a
// few processes, one kill fault, and an outage in which writes fail.
type fakeRun struct {
	Scenario string
	Started  time.Time
	Seconds  int     // length of the workload
	FaultAt  float64 // fault requested, s
	HealAt   float64 // fault healed, s (0: never)
	Outage   float64 // s of failed writes after FaultAt
	RTO      *float64
	Lost     float64
	Avail    float64
	P99Write float64 // s
	Verdict  checker.Result
	Checks   map[string]checker.Check // overrides
}

func f64p(v float64) *float64 { return &v }

// write creates the run folder under root and returns it.
func (r fakeRun) write(t testing.TB, root string) RunDir {
	t.Helper()
	dir, err := NewRunDir(root, r.Scenario, r.Started)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir.File(ScenarioFile), []byte("name: "+r.Scenario+"\nseed: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ops := r.history()
	hw, err := history.Create(dir.File(HistoryFile))
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
	if err := WriteVerdict(dir, r.verdict()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// history has 4 processes, each invoking an op every 100 ms: writes ok on
// n1 before the fault, failing during the outage, ok on n2 after it.
func (r fakeRun) history() []history.Op {
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

func (r fakeRun) verdict() *Verdict {
	healed := (*float64)(nil)
	if r.HealAt > 0 {
		healed = f64p(r.HealAt)
	}
	checks := map[string]checker.Check{
		checker.CheckLinearizability: {Result: checker.Pass},
		checker.CheckRTO: {Result: checker.Pass, Value: r.RTO, Target: f64p(5), Unit: "seconds",
			PerFault: []*float64{r.RTO}, Unbounded: r.RTO == nil},
		checker.CheckRPO:          {Result: checker.Pass, Value: f64p(r.Lost), Target: f64p(0), Unit: "writes"},
		checker.CheckAvailability: {Result: checker.Pass, Value: f64p(r.Avail), Target: f64p(0.9), Unit: "ratio"},
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
	results := []checker.Result{}
	for _, c := range checks {
		results = append(results, c.Result)
	}
	verdict := r.Verdict
	if verdict == "" {
		verdict = checker.Merge(results...)
	}
	return &Verdict{
		Scenario: r.Scenario, Seed: 1, Verdict: verdict, Started: r.Started,
		DurationSeconds: float64(r.Seconds) + 1, Checks: checks,
		Ops: checker.OpCounts{Total: r.Seconds * 40, OK: int(r.Avail * float64(r.Seconds*40))},
		Faults: []FaultRecord{{ID: 0, Kind: "kill", Target: "primary", Nodes: []string{"n1"},
			Scheduled: r.FaultAt, Requested: r.FaultAt, Effective: f64p(r.FaultAt + 0.02),
			Healed: healed, RTO: r.RTO, Availability: f64p(0.5)}},
		Latency: checker.LatencyReport{Run: map[string]checker.LatencySummary{
			"write": {Count: 100, P50: 0.005, P95: 0.007, P99: r.P99Write, Max: 0.2},
			"all":   {Count: 130, P50: 0.005, P95: 0.007, P99: r.P99Write, Max: 0.2},
		}},
	}
}

// defaultRun is a passing kill-primary run.
func defaultRun(started time.Time) fakeRun {
	return fakeRun{Scenario: "kill-primary", Started: started, Seconds: 40, FaultAt: 10, HealAt: 25,
		Outage: 2.5, RTO: f64p(2.5), Avail: 0.95, P99Write: 0.008}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func listDir(t testing.TB, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*"))
	return m
}
