package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// kindCase applies one kind on the env's node, checks its effect while it
// is in force and after the heal, and heals it.
type kindCase func(t *testing.T, e *kindEnv, k agent.Kind)

// kindCases has a case for every agent kind; TestEveryFaultKindOnEverySystem
// fails for a kind without one.
var kindCases = map[agent.Kind]kindCase{
	kind.Partition: peerUnreachable(func(e *kindEnv) agent.Params { return agent.Params{Peers: []string{e.peerIP}} }),
	kind.Loss: peerUnreachable(func(e *kindEnv) agent.Params {
		return agent.Params{Peers: []string{e.peerIP}, Params: kind.Params{Percent: 100}}
	}),
	kind.Delay:     peerDelayed,
	kind.DNS:       peerUnresolved,
	kind.Bandwidth: effectiveOnly(agent.Params{Params: kind.Params{Rate: kind.BitRate(1_000_000)}}),
	kind.Corrupt:   effectiveOnly(agent.Params{Params: kind.Params{Percent: 50}}),
	kind.Duplicate: effectiveOnly(agent.Params{Params: kind.Params{Percent: 50}}),
	kind.Reorder:   effectiveOnly(agent.Params{Params: kind.Params{Percent: 50}}),
	kind.DiskStall: diskStalled,
	kind.DiskSlow:  diskSlowed,
	kind.DiskError: diskFails(agent.Params{}, "input/output error", func(m agent.Measured) uint64 { return m.OpsFailed }),
	kind.DiskFull:  diskFails(agent.Params{}, "no space left on device", func(m agent.Measured) uint64 { return m.OpsNoSpace }),
	kind.PowerLoss: powerLost,
	kind.Crash:     crashed,
	kind.Sigstop:   stopped,
	kind.CPU:       resourceUsed(agent.Params{Params: kind.Params{Percent: 50}}, func(m agent.Measured) bool { return m.CPUSeconds > 0 }),
	kind.Memory:    resourceUsed(agent.Params{Params: kind.Params{MiB: 32}}, func(m agent.Measured) bool { return m.MemoryBytes >= 32<<20 }),
	kind.Clock:     clockShifted,
}

// effectiveOnly is for kinds whose effect the node cannot cheaply measure
// on an idle cluster: the agent's report that it took effect, and the heal.
func effectiveOnly(p agent.Params) kindCase {
	return func(t *testing.T, e *kindEnv, k agent.Kind) {
		e.heal(t, e.apply(t, k, p))
	}
}

// peerUnreachable: while in force, the node cannot connect to its peer;
// after the heal it can.
func peerUnreachable(params func(*kindEnv) agent.Params) kindCase {
	return func(t *testing.T, e *kindEnv, k agent.Kind) {
		a := e.apply(t, k, params(e))
		if p, err := e.cl.Probe(e.ctx, "", e.peerAddr); err != nil || p.ConnectError == "" {
			t.Errorf("%s in force: %s still connects to %s (%+v, %v)", k, e.node.Name(), e.peerAddr, p, err)
		}
		e.heal(t, a)
		e.reachPeer(t)
	}
}

// peerDelayed: a connection to the peer takes at least the delay.
func peerDelayed(t *testing.T, e *kindEnv, k agent.Kind) {
	const d = 300 * time.Millisecond
	a := e.apply(t, k, agent.Params{Peers: []string{e.peerIP}, Params: kind.Params{Delay: kind.Duration(d)}})
	if p, err := e.cl.Probe(e.ctx, "", e.peerAddr); err != nil || !p.OK() || p.Millis < float64(d.Milliseconds()) {
		t.Errorf("%s of %s in force: connecting to %s took %+v (%v), want at least the delay", k, d, e.peerAddr, p, err)
	}
	e.heal(t, a)
	e.reachPeer(t)
}

// peerUnresolved: the peer's name does not resolve while in force.
func peerUnresolved(t *testing.T, e *kindEnv, k agent.Kind) {
	a := e.apply(t, k, agent.Params{})
	if p, err := e.cl.Probe(e.ctx, e.peer.Name(), ""); err != nil || p.ResolveError == "" {
		t.Errorf("%s in force: %s still resolves %s (%+v, %v)", k, e.node.Name(), e.peer.Name(), p, err)
	}
	e.heal(t, a)
	e.reachPeer(t)
}

// reachPeer checks that the node resolves and reaches its peer again.
func (e *kindEnv) reachPeer(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, reachBudget)
	defer cancel()
	if err := reach(ctx, e.cl, e.node.Name(), e.peer.Name(), e.peer.Port()); err != nil {
		t.Errorf("after the heal: %v", err)
	}
}

// dataProbe is the file the disk cases write in the data folder.
var dataProbe = cluster.DataDir + "/hadrill-probe"

// diskStalled: a write to the data folder does not finish while the stall
// is in force, and finishes, without error, once it is healed.
func diskStalled(t *testing.T, e *kindEnv, k agent.Kind) {
	a := e.apply(t, k, agent.Params{})
	done := e.probeAsync(t, "write", dataProbe)
	select {
	case r := <-done:
		t.Errorf("%s in force: a write to %s finished: %+v", k, cluster.DataDir, r)
	case <-time.After(time.Second):
	}
	m := e.heal(t, a)
	select {
	case r := <-done:
		if r.Err != "" {
			t.Errorf("after the heal, the stalled write failed: %s", r.Err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("after the heal, the stalled write still blocks")
	}
	if m.OpsStalled == 0 {
		t.Errorf("%s: the agent counted no stalled operation: %+v", k, m)
	}
}

// diskSlowed: a write and fsync take at least the added delay.
func diskSlowed(t *testing.T, e *kindEnv, k agent.Kind) {
	const d = 200 * time.Millisecond
	a := e.apply(t, k, agent.Params{Params: kind.Params{Delay: kind.Duration(d)}})
	r := e.probe(t, "write", dataProbe)
	if r.Err != "" || r.MS < float64(d.Milliseconds()) {
		t.Errorf("%s of %s in force: a write to %s gave %+v, want success after at least the delay", k, d, cluster.DataDir, r)
	}
	m := e.heal(t, a)
	if m.OpsSlowed == 0 {
		t.Errorf("%s: the agent counted no slowed operation: %+v", k, m)
	}
	e.writes(t)
}

// diskFails: a write to the data folder fails with the kind's error while
// in force, and the agent counts it.
func diskFails(p agent.Params, want string, counted func(agent.Measured) uint64) kindCase {
	return func(t *testing.T, e *kindEnv, k agent.Kind) {
		a := e.apply(t, k, p)
		r := e.probe(t, "write", dataProbe)
		if !strings.Contains(r.Err, want) {
			t.Errorf("%s in force: a write to %s gave %+v, want %q", k, cluster.DataDir, r, want)
		}
		m := e.heal(t, a)
		if counted(m) == 0 {
			t.Errorf("%s: the agent counted no failed operation: %+v", k, m)
		}
		e.writes(t)
	}
}

// writes checks that a write to the data folder succeeds (after a heal).
func (e *kindEnv) writes(t *testing.T) {
	t.Helper()
	r := e.probe(t, "write", dataProbe)
	if r.Err != "" && e.node.Running(e.ctx) {
		t.Errorf("after the heal, a write to %s failed: %s", cluster.DataDir, r.Err)
	}
	// A node whose process exited under the fault is settle's to restart.
}

// powerLost: a file written without fsync before the power loss has lost
// its data after it, and the process is killed and restarted on the heal.
func powerLost(t *testing.T, e *kindEnv, k agent.Kind) {
	unsynced := cluster.DataDir + "/hadrill-unsynced"
	if r := e.probe(t, "nosync", unsynced); r.Err != "" {
		t.Fatalf("write %s without fsync: %s", unsynced, r.Err)
	}
	a := e.apply(t, k, agent.Params{})
	// Its create survives when the system fsynced anything since (the
	// metadata journal is global), its data never does.
	if r := e.probe(t, "exists", unsynced); r.Err != "" || r.Size != 0 {
		t.Errorf("%s: the un-fsynced data of %s survived: %+v", k, unsynced, r)
	}
	m := e.heal(t, a)
	if m.BytesLost == 0 || m.OldPID == 0 || m.NewPID == 0 || m.NewPID == m.OldPID {
		t.Errorf("%s: want bytes lost and the process restarted, measured %+v", k, m)
	}
}

// crashed: the process is gone while in force and a new one runs after
// the heal.
func crashed(t *testing.T, e *kindEnv, k agent.Kind) {
	a := e.apply(t, k, agent.Params{})
	old := e.live(t, a).OldPID
	if s := e.probe(t, "state", strconv.Itoa(old)).State; s != "" && s != "Z" {
		t.Errorf("%s in force: process %d still runs (state %s)", k, old, s)
	}
	m := e.heal(t, a)
	if m.NewPID == 0 || m.NewPID == old {
		t.Errorf("%s: no new process after the heal: %+v", k, m)
	}
}

// stopped: the process is stopped (state T) while in force, and runs
// again after the heal.
func stopped(t *testing.T, e *kindEnv, k agent.Kind) {
	a := e.apply(t, k, agent.Params{})
	pid := strconv.Itoa(e.live(t, a).OldPID)
	if s := e.probe(t, "state", pid).State; s != "T" {
		t.Errorf("%s in force: process %s is in state %q, want T", k, pid, s)
	}
	e.heal(t, a)
	if s := e.probe(t, "state", pid).State; s == "T" || s == "" {
		t.Errorf("after the heal, process %s is in state %q", pid, s)
	}
}

// resourceUsed: the agent measures the resource it consumed.
func resourceUsed(p agent.Params, used func(agent.Measured) bool) kindCase {
	return func(t *testing.T, e *kindEnv, k agent.Kind) {
		a := e.apply(t, k, p)
		// Wait until the agent reports the resource in use (its status
		// measures a fault in force), at most a minute: a hang guard.
		for deadline := time.Now().Add(time.Minute); !used(e.live(t, a)) && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		if m := e.heal(t, a); !used(m) {
			t.Errorf("%s: nothing consumed: %+v", k, m)
		}
	}
}

// clockShifted: the process's clock, as the agent observes it under the
// same preload, is off by about the offset.
func clockShifted(t *testing.T, e *kindEnv, k agent.Kind) {
	const off = time.Hour
	a := e.apply(t, k, agent.Params{Params: kind.Params{Offset: kind.Offset(off)}})
	m := e.heal(t, a)
	if got := time.Duration(m.ClockOffsetMS * float64(time.Millisecond)); got < off-time.Minute || got > off+time.Minute {
		t.Errorf("%s of %s: the process's clock was off by %s", k, off, got)
	}
}

// probeResult is what testdata/nodeprobe prints.
type probeResult struct {
	MS     float64 `json:"ms"`
	Err    string  `json:"err"`
	Exists bool    `json:"exists"`
	Size   int64   `json:"size"`
	State  string  `json:"state"`
}

// probe runs the node probe in the node and waits for it.
func (e *kindEnv) probe(t *testing.T, args ...string) probeResult {
	t.Helper()
	select {
	case r := <-e.probeAsync(t, args...):
		return r
	case <-time.After(time.Minute):
		t.Fatalf("probe %v on %s does not return", args, e.node.Name())
		return probeResult{}
	}
}

// probeAsync runs the node probe in the node (docker exec) and delivers
// its result; a probe that cannot run reports that as its error.
func (e *kindEnv) probeAsync(t *testing.T, args ...string) <-chan probeResult {
	t.Helper()
	out := make(chan probeResult, 1)
	cmd := exec.CommandContext(e.ctx, "docker", append([]string{"exec", e.node.ContainerID(), probePath}, args...)...)
	go func() {
		var r probeResult
		b, err := cmd.Output()
		if err != nil {
			r.Err = fmt.Sprintf("run probe: %v", err)
		} else if err := json.Unmarshal(b, &r); err != nil {
			r.Err = fmt.Sprintf("read probe output %q: %v", b, err)
		}
		out <- r
	}()
	return out
}
