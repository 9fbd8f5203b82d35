package agent_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/vishvananda/netns"
)

const childAddr = "127.0.0.1:8080"

// childAgent starts an agent supervising the test's serving child.
func childAgent(t *testing.T) (*agentProc, netns.NsHandle) {
	t.Helper()
	ns := newNetns(t)
	p := startAgent(t, ns, agentOpts{child: []string{os.Args[0], childArg, "serve", childAddr}})
	if _, err := waitChildPID(ns, 0, 5*time.Second); err != nil {
		t.Fatalf("child never answered: %v", err)
	}
	return p, ns
}

// childPID asks the child for its pid, with a short timeout.
func childPID(ns netns.NsHandle, timeout time.Duration) (int, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true, DialContext: nsDialer(ns)}}
	resp, err := c.Get("http://" + childAddr)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(b))
}

// waitChildPID polls until the child answers with a pid other than not.
func waitChildPID(ns netns.NsHandle, not int, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		pid, err := childPID(ns, 200*time.Millisecond)
		if err == nil && pid != not {
			return pid, nil
		}
		if time.Now().After(deadline) {
			return pid, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrash kills the child and checks it comes back with a new pid after
// restart_after, and that the agent survived the kill.
func TestCrash(t *testing.T) {
	p, ns := childAgent(t)
	old, _ := childPID(ns, time.Second)
	applied := p.apply(t, agent.Fault{ID: "crash", Kind: kind.Crash,
		Params: agent.Params{RestartAfter: agent.Duration(300 * time.Millisecond)}})
	if _, err := childPID(ns, 200*time.Millisecond); err == nil {
		t.Error("the child still answers right after the crash")
	}
	newPID, err := waitChildPID(ns, old, 5*time.Second)
	if err != nil {
		t.Fatalf("child did not come back: %v", err)
	}
	m := p.heal(t, "crash").Measured
	t.Logf("pid %d -> %d (%s); measured %+v", old, newPID, applied.Mechanism, m)
	if newPID == old || m.OldPID != old || m.NewPID != newPID {
		t.Errorf("pids: child says %d -> %d, agent says %d -> %d", old, newPID, m.OldPID, m.NewPID)
	}
}

// TestCrashRestartOnHeal: without restart_after the child stays down until
// the heal.
func TestCrashRestartOnHeal(t *testing.T) {
	p, ns := childAgent(t)
	old, _ := childPID(ns, time.Second)
	p.apply(t, agent.Fault{ID: "crash", Kind: kind.Crash})
	time.Sleep(300 * time.Millisecond)
	if _, err := childPID(ns, 200*time.Millisecond); err == nil {
		t.Fatal("the child answers while crashed")
	}
	m := p.heal(t, "crash").Measured
	newPID, err := waitChildPID(ns, old, 5*time.Second)
	if err != nil || newPID != m.NewPID {
		t.Fatalf("after heal: child pid %d (%v), agent says %d", newPID, err, m.NewPID)
	}
}

// TestSigstop freezes the child: it does not answer during the window and
// answers again, with the same pid, after the heal.
func TestSigstop(t *testing.T) {
	p, ns := childAgent(t)
	old, _ := childPID(ns, time.Second)
	p.apply(t, agent.Fault{ID: "stop", Kind: kind.Sigstop})
	_, err := childPID(ns, 500*time.Millisecond)
	p.heal(t, "stop")
	if err == nil {
		t.Error("the stopped child answered")
	}
	pid, err2 := childPID(ns, time.Second)
	t.Logf("during the stop: %v; after: pid %d (%v)", err, pid, err2)
	if err2 != nil || pid != old {
		t.Errorf("after heal: pid %d (%v), want %d", pid, err2, old)
	}
}

// TestChildExitCode: the agent exits with the child's code when the child
// exits on its own, and forwards SIGTERM (the child exits 42 on it), even
// while the child is stopped by a fault.
func TestChildExitCode(t *testing.T) {
	ns := newNetns(t)
	p := startAgent(t, ns, agentOpts{child: []string{os.Args[0], childArg, "exit", "3"}, noWait: true})
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not exit after its child")
	}
	if p.code != 3 {
		t.Errorf("agent exit code %d, want the child's 3", p.code)
	}

	q, _ := childAgent(t)
	q.apply(t, agent.Fault{ID: "stop", Kind: kind.Sigstop})
	if code := q.stop(t); code != 42 {
		t.Errorf("agent exit code after SIGTERM %d, want 42 (the child's answer to SIGTERM)", code)
	}
}

// TestAuth: every endpoint needs the bearer token.
func TestAuth(t *testing.T) {
	ns := newNetns(t)
	p := startAgent(t, ns, agentOpts{})
	for _, token := range []string{"", "wrong", testToken + "x"} {
		c := nsClient(ns, p.client.BaseURL, token)
		_, err := c.Health(context.Background())
		if err == nil {
			t.Errorf("token %q accepted", token)
		}
		if _, err := c.Apply(context.Background(), agent.Fault{ID: "x", Kind: kind.CPU}); err == nil {
			t.Errorf("apply with token %q accepted", token)
		}
	}
	if _, err := p.client.Health(context.Background()); err != nil {
		t.Errorf("right token: %v", err)
	}
}
