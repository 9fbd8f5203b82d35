package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"
)

func others(c *testCluster, p int) []int {
	var out []int
	for i := range c.nodes {
		if i != p {
			out = append(out, i)
		}
	}
	return out
}

// waitCaughtUp waits until every node in idx has the primary's whole log.
func (c *testCluster) waitCaughtUp(p int, idx []int) {
	c.t.Helper()
	waitFor(c.t, "standbys to catch up", func() bool {
		ps, err := c.status(p)
		if err != nil {
			return false
		}
		for _, i := range idx {
			if s, err := c.status(i); err != nil || s.LastIndex < ps.LastIndex {
				return false
			}
		}
		return true
	})
}

// TestAsyncLosesAcknowledgedWritesWhenLaggingPrimaryDies stops both
// standbys, has the async primary acknowledge writes they never receive,
// kills the primary and restarts the standbys: the new primary lacks writes
// that were acknowledged. The old primary, restarted, drops them too.
//
// The standbys are killed, not frozen: a frozen process's sockets still
// take the primary's append requests into their buffers, and a thawed
// standby then applied all 89 of them (seen under load), so nothing was
// lost for a reason that has nothing to do with async replication.
func TestAsyncLosesAcknowledgedWritesWhenLaggingPrimaryDies(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, append(fast, "--replication=async")...)
	p, st := c.waitPrimary(anyPrimary)
	mustPut(t, c, p, "base", "ok")
	standbys := others(c, p)
	c.waitCaughtUp(p, standbys)
	for _, s := range standbys {
		c.kill(s)
	}
	var acked []string
	for k := range 100 {
		key := fmt.Sprintf("async-%d", k)
		code, _, err := c.put(p, key, "v", nil)
		if err != nil || code != http.StatusOK {
			break // the primary lost its lease: it stops acknowledging
		}
		acked = append(acked, key)
	}
	if len(acked) == 0 {
		t.Fatal("the async primary acknowledged nothing while its standbys lagged")
	}
	c.kill(p)
	for _, s := range standbys {
		c.start(s)
	}
	np, nst := c.waitPrimary(func(i int, s Status) bool { return i != p && s.Epoch > st.Epoch })
	if code, v, _ := c.get(np, "base"); code != http.StatusOK || v != "ok" {
		t.Fatalf("replicated write missing on the new primary: %d %q", code, v)
	}
	lost := 0
	for _, k := range acked {
		if code, _, _ := c.get(np, k); code == http.StatusNotFound {
			lost++
		}
	}
	t.Logf("%d writes acknowledged by the lagging primary, %d missing on the new primary", len(acked), lost)
	if lost == 0 {
		t.Fatal("no acknowledged write was lost; async replication should lose them here")
	}
	c.start(p)
	c.waitRejoined(p, nst)
	if !c.grepLog(p, "truncated", "entries the primary does not have") {
		t.Error("the returning old primary did not log the entries it dropped")
	}
}

// TestShipDelayKeepsStandbysBehind runs async replication as a delayed
// standby (--ship-delay 3s): writes sent within the delay before the primary
// dies are not on the standbys, while older ones are. Killing the primary
// right after a burst of writes loses that burst, with no other fault
// needed. How many writes must be missing is counted from clock readings
// that bound the primary's own, not assumed: on a busy machine the burst
// itself can take a second or more, and one fsync can take longer.
//
// A write is appended after the test sent it, and shipped only once it is
// the delay old; the standbys get nothing once the primary is dead. So a
// write sent less than the delay before the kill returned is on no standby,
// whatever the machine's speed.
func TestShipDelayKeepsStandbysBehind(t *testing.T) {
	t.Parallel()
	const delay = 3 * time.Second
	c := startCluster(t, 3, append(fast, "--replication=async", "--ship-delay="+delay.String())...)
	p, st := c.waitPrimary(anyPrimary)
	mustPut(t, c, p, "old", "v")
	standbys := others(c, p)
	c.waitCaughtUp(p, standbys)
	var acked []string
	var sentAt []time.Time
	for k := range 50 {
		key := fmt.Sprintf("recent-%d", k)
		sentAt = append(sentAt, time.Now())
		mustPut(t, c, p, key, "v")
		acked = append(acked, key)
	}
	// Asked after the last acknowledgement: the primary's log holds them all.
	pst := c.mustStatus(p)
	c.kill(p)
	dead := time.Now()
	unshipped := 0
	for _, at := range sentAt {
		if dead.Sub(at) < delay {
			unshipped++
		}
	}
	if unshipped == 0 {
		t.Fatalf("the primary died %s after the last of %d writes was sent, more than the %s delay: nothing to check",
			dead.Sub(sentAt[len(sentAt)-1]), len(acked), delay)
	}
	for _, s := range standbys {
		if sst := c.mustStatus(s); sst.LastIndex+uint64(unshipped) > pst.LastIndex {
			t.Fatalf("standby %s is at index %d, primary was at %d: less than %d writes behind within the delay",
				c.nodes[s].id, sst.LastIndex, pst.LastIndex, unshipped)
		}
	}
	np, _ := c.waitPrimary(func(i int, s Status) bool { return i != p && s.Epoch > st.Epoch })
	if code, v, _ := c.get(np, "old"); code != http.StatusOK || v != "v" {
		t.Fatalf("a write older than the delay is missing on the new primary: %d %q", code, v)
	}
	lost := 0
	for _, k := range acked {
		// Found or not found, asked of whoever is primary now: a read that
		// timed out on a busy machine is neither.
		code := 0
		waitFor(t, "a read of "+k, func() bool {
			np, _ = c.waitPrimary(func(i int, s Status) bool { return i != p && s.Epoch > st.Epoch })
			code, _, _ = c.get(np, k)
			return code == http.StatusOK || code == http.StatusNotFound
		})
		if code == http.StatusNotFound {
			lost++
		}
	}
	t.Logf("%d of %d recent acknowledged writes lost, %d sent within the delay before the kill", lost, len(acked), unshipped)
	if lost < unshipped {
		t.Fatalf("%d recent acknowledged writes lost, want at least the %d sent within the %s delay before the kill", lost, unshipped, delay)
	}
}

// TestStaleEpochReplicationIsRefused freezes a primary until a successor is
// elected. Replication in the old epoch is then refused by every node
// (fencing), and the old primary, thawed, neither acknowledges writes nor
// serves reads, and becomes a standby of the new epoch.
func TestStaleEpochReplicationIsRefused(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, fast...)
	p, st := c.waitPrimary(anyPrimary)
	mustPut(t, c, p, "k", "old")
	c.freeze(p)
	np, nst := c.waitPrimary(func(i int, s Status) bool { return i != p && s.Epoch > st.Epoch })
	mustPut(t, c, np, "k", "new")
	for _, i := range others(c, p) {
		before := c.mustStatus(i)
		resp := c.postAppend(i, AppendRequest{
			Epoch: st.Epoch, Leader: c.nodes[p].id, PrevIndex: before.LastIndex, PrevEpoch: st.Epoch,
			Entries:      []Entry{{Index: before.LastIndex + 1, Epoch: st.Epoch, Op: OpPut, Key: "k", Value: []byte("stale")}},
			LeaderCommit: before.LastIndex + 1,
		})
		if resp.Success || resp.Reason != reasonStaleEpoch || resp.Epoch != nst.Epoch {
			t.Errorf("%s accepted or mis-refused epoch %d replication: %+v", c.nodes[i].id, st.Epoch, resp)
		}
		if after, _ := c.status(i); after.LastIndex != before.LastIndex {
			t.Errorf("%s log moved from %d to %d on a refused append", c.nodes[i].id, before.LastIndex, after.LastIndex)
		}
		if !c.grepLog(i, "refused replication from a stale epoch") {
			t.Errorf("%s did not log the refusal", c.nodes[i].id)
		}
	}
	c.signal(p, syscall.SIGCONT)
	code, hdr, err := c.put(p, "k", "zombie", nil)
	if err != nil || code != http.StatusServiceUnavailable || hdr.Values(PrimaryHeader) == nil {
		t.Errorf("write on the thawed old primary: %d %v; want 503 with %s", code, err, PrimaryHeader)
	}
	if code, v, _ := c.get(p, "k"); code != http.StatusServiceUnavailable {
		t.Errorf("read on the thawed old primary: %d %q; want 503", code, v)
	}
	waitFor(t, "the old primary to follow the new epoch", func() bool {
		s, err := c.status(p)
		return err == nil && s.Role == RoleStandby && s.Epoch >= nst.Epoch
	})
	if code, v, _ := c.get(np, "k"); code != http.StatusOK || v != "new" {
		t.Errorf("k on the new primary = %d %q, want new", code, v)
	}
}

func (c *testCluster) postAppend(i int, req AppendRequest) AppendResponse {
	c.t.Helper()
	body, _ := json.Marshal(req)
	resp, err := c.hc.Post("http://"+c.nodes[i].addr+pathAppend, "application/json", bytes.NewReader(body))
	if err != nil {
		c.t.Fatalf("post append to %s: %v", c.nodes[i].id, err)
	}
	defer resp.Body.Close()
	var out AppendResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.t.Fatalf("decode append answer: %v", err)
	}
	return out
}

// TestIsolatedQuorumPrimaryStepsDown freezes both standbys: the primary can
// no longer reach a majority, so within its lease it steps down and refuses
// reads and writes. Thawed, the cluster elects a primary again.
//
// "Before a successor could be elected" is measured, not assumed: a
// successor needs at least an election, and the cluster's first election
// (firstElection) is how long one takes on this machine now. The step-down
// waits out a lease of half the failover timeout and one tick, while the
// election waits out at least the whole timeout and then two rounds of
// votes, so a starved machine that delays the step-down delays an
// election at least as much. A primary that keeps its role as long as an
// election takes fails here; one that never steps down fails at the hang
// guard.
func TestIsolatedQuorumPrimaryStepsDown(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, fast...)
	p, _, election := c.firstElection()
	mustPut(t, c, p, "k", "v")
	standbys := others(c, p)
	frozen := time.Now() // before the freezes, which wait for the stop to land
	for _, s := range standbys {
		c.freeze(s)
	}
	waitFor(t, "the isolated primary to step down", func() bool {
		s, err := c.status(p)
		return err == nil && s.Role != RolePrimary
	})
	if took := time.Since(frozen); took > election {
		t.Errorf("stepped down after %s, not before a successor could be elected (this cluster's first election took %s)", took, election)
	}
	if code, _, _ := c.get(p, "k"); code != http.StatusServiceUnavailable {
		t.Errorf("read on the isolated old primary: %d, want 503", code)
	}
	if code, _, _ := c.put(p, "k", "w", nil); code != http.StatusServiceUnavailable {
		t.Errorf("write on the isolated old primary: %d, want 503", code)
	}
	for _, s := range standbys {
		c.signal(s, syscall.SIGCONT)
	}
	np, _ := c.waitPrimary(anyPrimary)
	if code, v, _ := c.get(np, "k"); code != http.StatusOK || v != "v" {
		t.Errorf("after recovery k = %d %q", code, v)
	}
}

// TestUnilateralSplitBrain is the naive two-node set-up: freeze the primary
// and the standby promotes itself without votes; thaw it and the old
// primary keeps serving, so two primaries acknowledge conflicting writes.
func TestUnilateralSplitBrain(t *testing.T) {
	t.Parallel()
	c, p, st := startUnilateral(t, append(fast, "--election=unilateral", "--replication=async")...)
	s := 1 - p
	waitFor(t, "the other node to follow", func() bool {
		ss, err := c.status(s)
		return err == nil && ss.Role == RoleStandby && ss.Primary == c.nodes[p].id
	})
	mustPut(t, c, p, "k", "before")
	c.freeze(p)
	c.waitPrimary(func(i int, ss Status) bool { return i == s && ss.Epoch > st.Epoch })
	c.signal(p, syscall.SIGCONT)
	waitFor(t, "two primaries at once", func() bool {
		a, errA := c.status(p)
		b, errB := c.status(s)
		return errA == nil && errB == nil && a.Role == RolePrimary && b.Role == RolePrimary
	})
	mustPut(t, c, p, "k", "old-primary")
	mustPut(t, c, s, "k", "new-primary")
	_, va, _ := c.get(p, "k")
	_, vb, _ := c.get(s, "k")
	if va != "old-primary" || vb != "new-primary" {
		t.Errorf("want diverged values, got %q on the old primary and %q on the new", va, vb)
	}
	if !c.grepLog(s, "promoting without votes") {
		t.Error("the standby did not log its unilateral promotion")
	}
	waitFor(t, "a split-brain warning", func() bool {
		return c.grepLog(p, "split brain") || c.grepLog(s, "split brain")
	})
}
