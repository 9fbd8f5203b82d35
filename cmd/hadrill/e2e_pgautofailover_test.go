package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestPgKillPrimary drills PostgreSQL with pg_auto_failover, built from
// Debian's packages: the primary is killed under synchronous replication.
// pg_auto_failover documents no loss with synchronous replication, and a
// promotion only once the monitor has found the primary unhealthy, which
// it cannot do before node_considered_unhealthy_timeout (3 s in the
// scenario): RTO must be at least that, and within the scenario's 15 s
// target. The image is built here when missing, as in CI.
func TestPgKillPrimary(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	dir := t.TempDir()
	code, stdout, stderr := hadrill(t, "run", "pg-kill-primary", "--results", dir)
	t.Logf("stdout:\n%s", stdout)
	run := filepath.Join(dir, "pg-kill-primary", "latest")
	defer assertRunLeftNothing(t, run)
	if code != exitOK {
		t.Fatalf("pg-kill-primary exit %d, want 0; stderr:\n%s", code, stderr)
	}
	v := readVerdict(t, run)
	rto, rpo := v.Checks["rto"], v.Checks["rpo"]
	switch {
	case v.System != "postgres-autofailover":
		t.Errorf("system %q, want postgres-autofailover", v.System)
	case v.Checks["linearizability"].Result != "pass":
		t.Errorf("linearizability %+v, want pass", v.Checks["linearizability"])
	case rpo.Value == nil || *rpo.Value != 0:
		t.Errorf("rpo %+v, want 0 lost writes", rpo)
	case rto.Value == nil || *rto.Value < 3 || *rto.Value > 15:
		t.Errorf("rto %+v, want between node_considered_unhealthy_timeout (3 s) and the 15 s target", rto)
	}
	assertLoadAfterSteadyState(t, run, v.LoadStart)
	recheck(t, run)
}

// assertLoadAfterSteadyState checks, in the monitor's own log, that a data
// node had reported the state "primary" (synchronous replication in force)
// by the time the load began. Before the runner waited for it, the load and
// the kill could fall in wait_primary, where a failover lost acknowledged
// writes on a busy machine.
func assertLoadAfterSteadyState(t *testing.T, run string, loadStart time.Time) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(run, "nodes", "m1.log"))
	if err != nil {
		t.Fatalf("read the monitor's log: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		// 16:58:31 109 INFO  New state is reported by node 1 "n2" (n2:5432): "primary"
		if !strings.Contains(line, "New state is reported by node") || !strings.HasSuffix(strings.TrimSpace(line), `: "primary"`) {
			continue
		}
		at, err := time.Parse(time.TimeOnly, strings.Fields(line)[0])
		if err != nil {
			continue // not a pg_autoctl line (hadrill-agent's own log)
		}
		ls := loadStart.UTC()
		at = time.Date(ls.Year(), ls.Month(), ls.Day(), at.Hour(), at.Minute(), at.Second(), 0, time.UTC)
		switch { // the log has no date: a report and the load either side of midnight
		case at.Sub(ls) > 12*time.Hour:
			at = at.AddDate(0, 0, -1)
		case ls.Sub(at) > 12*time.Hour:
			at = at.AddDate(0, 0, 1)
		}
		// The log has whole seconds: the report is at most a second later.
		if at.After(ls) {
			t.Errorf("the load began at %s, before the monitor's first \"primary\" report (%s)", ls.Format(time.TimeOnly+".000"), strings.TrimSpace(line))
		}
		return
	}
	t.Errorf("the monitor's log has no \"primary\" report; the load began at %s", loadStart.UTC().Format(time.TimeOnly))
}
