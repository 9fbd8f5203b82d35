package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/internal/testsupport"
)

// hangGuard bounds every wait on a condition in this package's tests. It is
// not a timing assertion: a busy machine may take many times longer than a
// quiet one to fail a container over or to answer again after an unpause,
// and a test that means to bound a duration measures it and says why the
// bound holds. It only stops a test that would otherwise hang.
const hangGuard = 2 * time.Minute

// waitFor polls cond every 100 ms until it returns true, failing the test
// after hangGuard, and returns how long that took.
func waitFor(tb testing.TB, what string, cond func(ctx context.Context) bool) time.Duration {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	began := time.Now()
	for !cond(ctx) {
		select {
		case <-ctx.Done():
			tb.Fatalf("%s: not within the %v hang guard", what, hangGuard)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return time.Since(began)
}

// TestKillPrimaryFailsOver starts a 3-node sync/quorum hakv cluster, finds
// its primary, kills that container, and expects another node to be found as
// primary; the killed node then restarts healthy, on the same address, as a
// standby.
func TestKillPrimaryFailsOver(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	c := startCluster(t, hakvSpec(t))
	if len(c.Nodes()) != 3 {
		t.Fatalf("nodes = %d, want 3", len(c.Nodes()))
	}
	// Each node has its own private address on the run's network, where
	// partitions will name it.
	ips := map[string]bool{}
	for _, n := range c.Nodes() {
		ip, err := n.IP(ctx)
		if err != nil || !ip.IsPrivate() || ips[ip.String()] {
			t.Fatalf("IP of %s = %v, %v: want a distinct private address", n.Name(), ip, err)
		}
		ips[ip.String()] = true
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	first, err := c.WaitPrimary(wctx)
	if err != nil {
		t.Fatalf("first primary: %v", err)
	}
	old := c.Node(first)
	addr := old.ClientAddr()
	t.Logf("primary %s at %s", first, addr)

	if err := old.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if old.Running(ctx) {
		t.Fatalf("%s still running after Kill", first)
	}
	var second string
	took := waitFor(t, "new primary", func(ctx context.Context) bool {
		second, err = c.Primary(ctx)
		return err == nil && second != first
	})
	t.Logf("new primary %s after %v", second, took.Round(time.Millisecond))

	if err := old.Start(ctx); err != nil {
		t.Fatalf("restart %s: %v", first, err)
	}
	if got := old.ClientAddr(); got != addr {
		t.Errorf("address after restart = %s, want %s (stable)", got, addr)
	}
	if err := old.Healthy(ctx); err != nil {
		t.Errorf("restarted node not healthy: %v", err)
	}
	waitFor(t, first+" back as standby", func(ctx context.Context) bool {
		claims, err := c.Claims(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, cl := range claims {
			if cl.Node == first {
				return cl.Err == nil && cl.Role == "standby"
			}
		}
		return false
	})
	if p, err := c.Primary(ctx); err != nil || p != second {
		t.Errorf("primary after restart = %q, %v; want %s", p, err, second)
	}
}

// TestPauseTimesOutHealth pauses a node (cgroup freezer) and expects its
// health check to time out, not be refused, then to pass again after Unpause;
// a paused node can still be killed.
func TestPauseTimesOutHealth(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	c := startCluster(t, hakvSpec(t))
	n := c.Node("n2")
	if err := n.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := n.State(ctx); err != nil || st != StatePaused {
		t.Errorf("state = %q, %v; want paused", st, err)
	}
	if n.Running(ctx) {
		t.Error("paused node reported running")
	}
	// The probe's own 1 s timeout must end it: it cannot end sooner (a
	// deadline never fires early, whatever the load), and the outer
	// context, a hang guard, must still be live when it does. A probe that
	// ignored its timeout would wait for the paused node until the guard.
	timeout := hakvSpec(t).System.Health().Timeout
	outer, cancel := context.WithTimeout(ctx, hangGuard)
	defer cancel()
	began := time.Now()
	err := n.Healthy(outer)
	took := time.Since(began)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("health of paused node = %v, want a timeout", err)
	}
	if took < timeout || outer.Err() != nil {
		t.Errorf("health probe of paused node ended after %v (outer context: %v), want its own %v timeout to end it", took, outer.Err(), timeout)
	}
	if err := n.Unpause(ctx); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, "health after unpause", func(ctx context.Context) bool {
		return n.Healthy(ctx) == nil
	})
	t.Logf("healthy %v after unpause", took.Round(time.Millisecond))

	if err := n.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Kill(ctx); err != nil {
		t.Fatalf("kill a paused node: %v", err)
	}
	if st, err := n.State(ctx); err != nil || st != StateExited {
		t.Errorf("state after killing a paused node = %q, %v; want exited", st, err)
	}
}

// TestStopHonoursGrace stops a node with SIGTERM and expects it to be down
// well within the grace period (hakv exits on SIGTERM), with a later Start
// bringing it back.
func TestStopHonoursGrace(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	c := startCluster(t, hakvSpec(t))
	n := c.Node("n3")
	began := time.Now()
	if err := n.Stop(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	if st, err := n.State(ctx); err != nil || st != StateExited {
		t.Fatalf("state after stop = %q, %v; want exited", st, err)
	}
	// Killed at the end of the grace, the container would exit 137; a busy
	// machine may slow the stop, so the exit code, not the time, tells.
	info, err := c.docker.ContainerInspect(ctx, n.ContainerID(), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if code := info.Container.State.ExitCode; code == 137 {
		t.Errorf("stop took %v and exited %d: SIGTERM was not acted on before the grace ran out", took, code)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !n.Running(ctx) {
		t.Error("node not running after Start")
	}
}

// TestTeardownRemovesEverythingAndKeepsLogs tears down a cluster with one
// node killed and one paused, and expects every node's log on disk, no
// container or network left with the run's label, and a second Teardown, a
// nil Teardown and a Teardown with a cancelled context to be harmless.
func TestTeardownRemovesEverythingAndKeepsLogs(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	spec := hakvSpec(t)
	c := startCluster(t, spec)
	if err := c.Node("n1").Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Node("n2").Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if ctrs, nets := testsupport.Leftovers(t, spec.RunID); ctrs != 3 || nets != 1 {
		t.Fatalf("before teardown: %d containers, %d networks; want 3, 1", ctrs, nets)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Teardown(cancelled); err != nil {
		t.Fatalf("teardown with a cancelled context: %v", err)
	}
	if ctrs, nets := testsupport.Leftovers(t, spec.RunID); ctrs != 0 || nets != 0 {
		t.Errorf("after teardown: %d containers, %d networks left", ctrs, nets)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		b, err := os.ReadFile(filepath.Join(spec.LogDir, n+".log"))
		if err != nil || len(b) == 0 {
			t.Errorf("log of %s: %d bytes, %v; want a non-empty file", n, len(b), err)
		}
	}
	if err := c.Teardown(ctx); err != nil {
		t.Errorf("second teardown: %v", err)
	}
	var none *Cluster
	if err := none.Teardown(ctx); err != nil {
		t.Errorf("nil teardown: %v", err)
	}
}

// TestStartFailureStillTearsDown starts a cluster whose nodes exit at once
// (a flag hakv rejects, smuggled past option checking by Customize) and
// expects Start to fail quickly with the node's log in the error, and the
// returned Cluster to tear down to nothing.
func TestStartFailureStillTearsDown(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	spec := hakvSpec(t)
	spec.Customize = func(_ string, cs *ContainerSpec) error {
		cs.Cmd = append(cs.Cmd, "--no-such-flag")
		return nil
	}
	// Long enough that waiting it out cannot pass for noticing the exit,
	// which takes seconds on a quiet machine and many times that on a busy
	// one, and short of the package's test timeout.
	spec.StartTimeout = 4 * time.Minute
	began := time.Now()
	c, err := Start(ctx, spec)
	if err == nil || !strings.Contains(err.Error(), "exited with code") {
		t.Fatalf("start error = %v, want one saying the nodes exited", err)
	}
	t.Logf("start error after %v: %v", time.Since(began).Round(time.Millisecond), err)
	// Noticing the exit means not waiting out the start timeout, which a
	// health wait that ignored exited containers would.
	if took := time.Since(began); took >= spec.StartTimeout {
		t.Errorf("start took %v, the whole %v start timeout, to notice exited nodes", took, spec.StartTimeout)
	}
	if err := c.Teardown(ctx); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	if ctrs, nets := testsupport.Leftovers(t, spec.RunID); ctrs != 0 || nets != 0 {
		t.Errorf("after teardown: %d containers, %d networks left", ctrs, nets)
	}
}

// TestCustomizeAddsFilesAndCapabilities checks the seam the node agent will
// use: a file copied into a FROM scratch container, an extra capability, a
// device (/dev/fuse, where the host has it), and an extra port published on
// 127.0.0.1.
func TestCustomizeAddsFilesAndCapabilities(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	spec := hakvSpec(t)
	spec.Nodes = 1
	_, err := os.Stat("/dev/fuse")
	withFuse := err == nil
	spec.Customize = func(node string, cs *ContainerSpec) error {
		cs.Files = append(cs.Files, image.File{Path: "/etc/hadrill-node", Content: []byte(node)})
		cs.CapAdd = append(cs.CapAdd, "NET_ADMIN")
		cs.Ports = append(cs.Ports, 7001)
		if withFuse {
			cs.Devices = append(cs.Devices, "/dev/fuse")
		}
		return nil
	}
	c := startCluster(t, spec)
	n := c.Node("n1")
	if n.Addr(7001) == "" {
		t.Error("extra port 7001 not published")
	}
	info, err := c.docker.ContainerInspect(ctx, n.ContainerID(), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The engine may report the capability with its CAP_ prefix.
	if caps := info.Container.HostConfig.CapAdd; len(caps) != 1 || strings.TrimPrefix(caps[0], "CAP_") != "NET_ADMIN" {
		t.Errorf("CapAdd = %v, want [NET_ADMIN]", caps)
	}
	if devs := info.Container.HostConfig.Devices; withFuse && (len(devs) != 1 || devs[0].PathInContainer != "/dev/fuse") {
		t.Errorf("Devices = %+v, want /dev/fuse", devs)
	}
	for port, bindings := range info.Container.HostConfig.PortBindings {
		for _, b := range bindings {
			if b.HostIP.String() != "127.0.0.1" {
				t.Errorf("port %v bound to %v, want 127.0.0.1 only", port, b.HostIP)
			}
		}
	}
	rc, err := n.ctr.CopyFileFromContainer(ctx, "/etc/hadrill-node")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 16)
	k, _ := rc.Read(buf)
	if string(buf[:k]) != "n1" {
		t.Errorf("copied file holds %q, want n1", buf[:k])
	}
}

// TestStartCancelledStillTearsDown cancels Start as soon as its first
// container exists, as Ctrl-C would, and expects Teardown, called with the
// same dead context, to remove everything Start had created.
func TestStartCancelledStillTearsDown(t *testing.T) {
	needDocker(t)
	spec := hakvSpec(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if ctrs, _ := testsupport.Leftovers(t, spec.RunID); ctrs > 0 {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	c, err := Start(ctx, spec)
	t.Logf("start cancelled: %v", err)
	cancel()
	if ctrs, nets := testsupport.Leftovers(t, spec.RunID); ctrs == 0 || nets == 0 {
		t.Fatalf("nothing to tear down (%d containers, %d networks): the test proves nothing", ctrs, nets)
	}
	if err := c.Teardown(ctx); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	if ctrs, nets := testsupport.Leftovers(t, spec.RunID); ctrs != 0 || nets != 0 {
		t.Errorf("after teardown: %d containers, %d networks left", ctrs, nets)
	}
}
