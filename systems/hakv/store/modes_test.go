package store

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestSemiSyncFallsBackAfterTimeout freezes the only standby: the first
// write waits the semi-sync timeout and is then acknowledged by the primary
// alone, as MySQL does; once the standby is back and caught up, semi-sync
// is on again. (Unilateral election, so no lease interferes.)
func TestSemiSyncFallsBackAfterTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	c, p, _ := startUnilateral(t, "--heartbeat=100ms", "--failover-timeout=2s", "--election=unilateral",
		"--replication=semi-sync", fmt.Sprintf("--semi-sync-timeout=%s", timeout))
	s := 1 - p
	mustPut(t, c, p, "k0", "v")
	c.waitCaughtUp(p, []int{s})
	c.freeze(s)
	start := time.Now()
	mustPut(t, c, p, "k1", "v")
	if took := time.Since(start); took < timeout {
		t.Errorf("write acknowledged after %s without a standby, before the %s semi-sync timeout", took, timeout)
	}
	mustPut(t, c, p, "k2", "v")
	c.signal(s, syscall.SIGCONT)
	if !c.grepLog(p, "semi-sync: no standby acknowledged in time") {
		t.Error("fallback not logged")
	}
	waitFor(t, "semi-sync to resume", func() bool {
		return c.grepLog(p, "semi-sync: a standby caught up")
	})
	if st, _ := c.status(s); st.Role != RoleStandby {
		t.Errorf("the frozen standby did not stay a standby: %+v", st)
	}
}

// TestFsyncNeverLosesWritesOnKill: with --fsync=never the log waits in the
// process (here for an hour), so a SIGKILLed single node comes back
// without the writes it acknowledged. With --fsync=always it keeps them.
func TestFsyncNeverLosesWritesOnKill(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fsync string
		keeps bool
	}{{"never", false}, {"always", true}} {
		c := startCluster(t, 1, append(fast, "--fsync="+tc.fsync, "--flush-interval=1h")...)
		c.waitPrimary(anyPrimary)
		mustPut(t, c, 0, "k", "v")
		c.kill(0)
		c.start(0)
		c.waitPrimary(anyPrimary)
		code, _, err := c.get(0, "k")
		if err != nil || (code == http.StatusOK) != tc.keeps {
			t.Errorf("fsync=%s: after SIGKILL and restart k answers %d %v; want kept=%v", tc.fsync, code, err, tc.keeps)
		}
	}
}
