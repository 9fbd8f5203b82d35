package main

import (
	"path/filepath"
	"testing"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/internal/testsupport"
	"github.com/hadrill/hadrill/results"
)

// TestMariaDBSplitVIP runs the shortest MariaDB built-in, shortened further:
// a partition between the two nodes, VRRP included, makes both take the
// virtual IP. The clients, which reach only the virtual IP, get writes
// acknowledged by both nodes while the partition holds and by one node
// before it; the run is not linearizable and exits 1. The full set of
// MariaDB drills is behind `make drills`.
func TestMariaDBSplitVIP(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	dir := t.TempDir()
	code, stdout, stderr := hadrill(t, "run", "mariadb-split-vip", "--results", dir,
		"--set", "faults[0].at=6s", "--set", "faults[0].duration=9s", "--set", "duration=20s", "--set", "settle=3s")
	t.Logf("stdout:\n%s", stdout)
	run := filepath.Join(dir, "mariadb-split-vip", "latest")
	if meta, err := results.ReadMeta(run); err == nil {
		testsupport.AssertRunGone(t, meta.RunID)
	}
	if code != exitFailed {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if lin := readVerdict(t, run).Checks["linearizability"]; lin.Result != "fail" {
		t.Errorf("linearizability %+v, want fail", lin)
	}
	before, during := writers(t, run, 0, 6e9), writers(t, run, 8e9, 15e9)
	if len(before) != 1 || len(during) != 2 {
		t.Errorf("nodes acknowledging writes: %v before the partition, %v during it; want one, then both", before, during)
	}
}

// writers are the nodes that acknowledged a write between from and to
// (run-relative nanoseconds).
func writers(t *testing.T, run string, from, to int64) map[string]int {
	t.Helper()
	ops, _, err := history.ReadFile[history.Op](filepath.Join(run, results.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, op := range ops {
		if op.Type == history.OK && op.F != history.Read && op.F != history.FinalRead && op.Time >= from && op.Time < to {
			out[op.Node]++
		}
	}
	return out
}
