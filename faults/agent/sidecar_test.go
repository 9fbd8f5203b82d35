package agent_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/vishvananda/netns"
)

const sidecarAddr = "127.0.0.1:8081"

// pidAt asks the serving process at addr (inside ns) for its pid.
func pidAt(ns netns.NsHandle, addr string, timeout time.Duration) (int, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true, DialContext: nsDialer(ns)}}
	resp, err := c.Get("http://" + addr)
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

// waitPIDAt polls addr until it answers with a pid other than not.
func waitPIDAt(ns netns.NsHandle, addr string, not int) (int, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		pid, err := pidAt(ns, addr, 200*time.Millisecond)
		if err == nil && pid != not {
			return pid, nil
		}
		if time.Now().After(deadline) {
			return pid, fmt.Errorf("wait for a new pid at %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// state reads a process's state letter from /proc, "" when it is gone.
func state(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// sidecarAgent starts an agent whose child serves on childAddr and whose
// sidecar (given with --also) serves on sidecarAddr, and returns both pids.
func sidecarAgent(t *testing.T) (*agentProc, netns.NsHandle, int, int) {
	t.Helper()
	ns := newNetns(t)
	also, _ := json.Marshal([]string{os.Args[0], childArg, "serve", sidecarAddr})
	p := startAgent(t, ns, agentOpts{flags: []string{"--also", string(also)},
		child: []string{os.Args[0], childArg, "serve", childAddr}})
	main, err := waitPIDAt(ns, childAddr, 0)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	side, err := waitPIDAt(ns, sidecarAddr, 0)
	if err != nil {
		t.Fatalf("sidecar: %v", err)
	}
	if main == side {
		t.Fatalf("child and sidecar answer with the same pid %d", main)
	}
	return p, ns, main, side
}

// TestSidecarStopsOnSIGTERM: the child and its sidecar both run, and both
// get the agent's SIGTERM: the agent exits with the child's answer (42) and
// leaves no sidecar behind.
func TestSidecarStopsOnSIGTERM(t *testing.T) {
	p, _, main, side := sidecarAgent(t)
	if code := p.stop(t); code != 42 {
		t.Errorf("agent exit code %d, want 42 (the child's answer to SIGTERM)", code)
	}
	for name, pid := range map[string]int{"child": main, "sidecar": side} {
		if st := state(pid); st != "" {
			t.Errorf("%s %d still exists after the agent stopped (state %s)", name, pid, st)
		}
	}
	if log := p.stderr.String(); !regexp.MustCompile(`"sidecar exited" .*pid=\d+ code=42`).MatchString(log) {
		t.Errorf("the agent did not log the sidecar's own exit on SIGTERM:\n%s", log)
	}
}

// TestSidecarCrashAndSigstop: a crash kills the child and the sidecar, and
// the restart brings both back with new pids; a sigstop freezes both.
func TestSidecarCrashAndSigstop(t *testing.T) {
	p, ns, main, side := sidecarAgent(t)
	p.apply(t, agent.Fault{ID: "crash", Kind: kind.Crash})
	for name, pid := range map[string]int{"child": main, "sidecar": side} {
		if st := state(pid); st != "" {
			t.Errorf("%s %d survived the crash (state %s)", name, pid, st)
		}
	}
	if _, err := pidAt(ns, sidecarAddr, 200*time.Millisecond); err == nil {
		t.Error("the sidecar answers while the node is crashed")
	}
	p.heal(t, "crash")
	main2, err1 := waitPIDAt(ns, childAddr, main)
	side2, err2 := waitPIDAt(ns, sidecarAddr, side)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	t.Logf("child %d -> %d, sidecar %d -> %d", main, main2, side, side2)

	p.apply(t, agent.Fault{ID: "stop", Kind: kind.Sigstop})
	stMain, stSide := state(main2), state(side2)
	_, err := pidAt(ns, sidecarAddr, 300*time.Millisecond)
	p.heal(t, "stop")
	if stMain != "T" || stSide != "T" || err == nil {
		t.Errorf("during the sigstop: child state %q, sidecar state %q, sidecar answered: %v", stMain, stSide, err == nil)
	}
	if pid, err := pidAt(ns, sidecarAddr, time.Second); err != nil || pid != side2 {
		t.Errorf("after the heal the sidecar answers %d (%v), want %d", pid, err, side2)
	}
}

// TestSidecarFlag: --also takes a JSON argv and may be repeated.
func TestSidecarFlag(t *testing.T) {
	cfg, err := agent.ParseArgs([]string{"--also", `["a","b c"]`, "--also", `["d"]`, "--", "main"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.Sidecars) != "[[a b c] [d]]" || fmt.Sprint(cfg.Command) != "[main]" {
		t.Errorf("sidecars %q, command %q", cfg.Sidecars, cfg.Command)
	}
	for _, bad := range []string{"a b", `[]`, `[""]`} {
		if _, err := agent.ParseArgs([]string{"--also", bad, "main"}, io.Discard); err == nil {
			t.Errorf("--also %q accepted", bad)
		}
	}
}
