package hakv

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// load writes unique keys from a few writers, following 503 redirects, and
// remembers every write that was acknowledged.
type load struct {
	c    *testCluster
	stop chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	acked map[string]string
}

func (c *testCluster) startLoad(writers int, prefix string) *load {
	l := &load{c: c, stop: make(chan struct{}), acked: map[string]string{}}
	for w := range writers {
		l.wg.Add(1)
		go l.writer(w, prefix)
	}
	return l
}

func (l *load) writer(w int, prefix string) {
	defer l.wg.Done()
	target := 0
	for seq := 0; ; seq++ {
		select {
		case <-l.stop:
			return
		default:
		}
		key := fmt.Sprintf("%s%d-%d", prefix, w, seq)
		code, hdr, err := l.c.put(target, key, "v"+key, nil)
		if err == nil && code == http.StatusOK {
			l.mu.Lock()
			l.acked[key] = "v" + key
			l.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			continue
		}
		target = (target + 1) % len(l.c.nodes)
		if err == nil && hdr.Get(PrimaryHeader) != "" {
			target = l.c.index(hdr.Get(PrimaryHeader))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// finish stops the writers and returns the acknowledged writes.
func (l *load) finish() map[string]string {
	close(l.stop)
	l.wg.Wait()
	return l.acked
}

func (c *testCluster) index(id string) int {
	return slices.IndexFunc(c.nodes, func(n *testNode) bool { return n.id == id })
}

// TestSyncQuorumFailoverLosesNoAcknowledgedWrite kills the primary of a
// sync/quorum cluster under write load 20 times. Every failover must finish
// (a successor takes a write) within failover-timeout + 1 s, the killed
// node must come back as a standby holding the successor's data, and at
// the end every acknowledged write must be on the last primary.
func TestSyncQuorumFailoverLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	const rounds = 20
	c := startCluster(t, 3, append(fast, "--replication=sync", "--election=quorum")...)
	p, st := c.waitPrimary(5*time.Second, anyPrimary)
	l := c.startLoad(3, "load-")
	var worst time.Duration
	for r := range rounds {
		before := l.count()
		waitFor(t, 5*time.Second, "writes under load", func() bool { return l.count() >= before+60 })
		killed := time.Now()
		c.kill(p)
		np, nst := c.failover(killed, fastFailover+time.Second, func(i int, s Status) bool {
			return i != p && s.Epoch > st.Epoch
		})
		took := time.Since(killed)
		worst = max(worst, took)
		c.start(p)
		c.waitRejoined(p, nst)
		t.Logf("round %d: %s -> %s (epoch %d) in %s, %d writes acknowledged so far",
			r+1, c.nodes[p].id, c.nodes[np].id, nst.Epoch, took.Round(time.Millisecond), l.count())
		p, st = np, nst
	}
	acked := l.finish()
	got, err := c.scan(p, "load-")
	if err != nil {
		t.Fatalf("read back from the last primary: %v", err)
	}
	lost := 0
	for k, v := range acked {
		if got[k] != v {
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged write %s=%s lost (read %q)", k, v, got[k])
			}
		}
	}
	t.Logf("%d rounds, %d acknowledged writes, %d lost, slowest failover %s", rounds, len(acked), lost, worst)
}

// failover waits until a node that satisfies ok is primary and takes a
// write, and fails the test unless that happens within budget of killed.
func (c *testCluster) failover(killed time.Time, budget time.Duration, ok func(int, Status) bool) (int, Status) {
	c.t.Helper()
	np, nst := c.waitPrimary(budget+2*time.Second, ok)
	waitFor(c.t, budget+2*time.Second, "a write on the new primary", func() bool {
		code, _, err := c.put(np, "probe", killed.String(), nil)
		return err == nil && code == http.StatusOK
	})
	if took := time.Since(killed); took > budget {
		c.t.Errorf("failover to %s took %s, over the budget of %s", c.nodes[np].id, took, budget)
	}
	return np, nst
}

// waitRejoined waits until restarted node i is a standby of the epoch of
// primary (status s) and has everything that primary had committed.
func (c *testCluster) waitRejoined(i int, s Status) {
	c.t.Helper()
	waitFor(c.t, 5*time.Second, c.nodes[i].id+" to rejoin as a standby", func() bool {
		st, err := c.status(i)
		return err == nil && st.Role == RoleStandby && st.Epoch == s.Epoch && st.CommitIndex >= s.CommitIndex
	})
}

// TestRestartedPrimaryRejoinsAsStandby kills a primary, writes through its
// successor, and restarts it with a torn record appended to its log: it must
// cut the tail (and say so), rejoin as a standby and serve the successor's
// data (read locally with --stale-reads).
func TestRestartedPrimaryRejoinsAsStandby(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, append(fast, "--stale-reads=true")...)
	p, st := c.waitPrimary(5*time.Second, anyPrimary)
	mustPut(t, c, p, "before", "1")
	c.kill(p)
	appendGarbage(t, c.nodes[p].data+"/wal.log")
	np, nst := c.waitPrimary(3*time.Second, func(i int, s Status) bool { return i != p && s.Epoch > st.Epoch })
	mustPut(t, c, np, "after", "2")
	c.start(p)
	waitFor(t, 5*time.Second, "the old primary to hold the successor's write", func() bool {
		s, err := c.status(p)
		code, v, _ := c.get(p, "after")
		return err == nil && s.Role == RoleStandby && s.Epoch >= nst.Epoch && code == http.StatusOK && v == "2"
	})
	if code, v, _ := c.get(p, "before"); code != http.StatusOK || v != "1" {
		t.Errorf("old primary lost its own committed write: %d %q", code, v)
	}
	if !c.grepLog(p, "wal: truncated torn tail") {
		t.Errorf("restarted node did not log the torn tail it cut")
	}
	if s, _ := c.status(p); s.Primary != c.nodes[np].id {
		t.Errorf("restarted node follows %q, want %s", s.Primary, c.nodes[np].id)
	}
}

func mustPut(t *testing.T, c *testCluster, i int, key, value string) {
	t.Helper()
	code, _, err := c.put(i, key, value, nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("put %s on %s: %d %v", key, c.nodes[i].id, code, err)
	}
}

// TestOutsideCheck is the acceptance check the lead runs against bin/hakv:
// three processes with default timings, 300 keys written, the primary
// SIGKILLed, a new primary within failover-timeout + 1.5 s, and all 300 keys
// readable there.
func TestOutsideCheck(t *testing.T) {
	t.Parallel()
	const failover = 2 * time.Second // the default --failover-timeout
	c := startCluster(t, 3)
	p, st := c.waitPrimary(10*time.Second, anyPrimary)
	for k := range 300 {
		mustPut(t, c, p, fmt.Sprintf("key-%03d", k), fmt.Sprintf("value-%03d", k))
	}
	killed := time.Now()
	c.kill(p)
	np, _ := c.waitPrimary(failover+1500*time.Millisecond, func(i int, s Status) bool {
		return i != p && s.Epoch > st.Epoch
	})
	t.Logf("new primary %s after %s", c.nodes[np].id, time.Since(killed))
	for k := range 300 {
		key, want := fmt.Sprintf("key-%03d", k), fmt.Sprintf("value-%03d", k)
		if code, v, err := c.get(np, key); err != nil || code != http.StatusOK || v != want {
			t.Fatalf("read %s on the new primary: %d %q %v", key, code, v, err)
		}
	}
}
