package agent_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/hadrill/hadrill/internal/testsupport"
)

// diskAgent starts an agent that mounts a fresh data folder through FUSE in
// a private mount namespace (so no mount can outlive the test), and returns
// the path of that folder as seen through the agent's mount namespace.
func diskAgent(t testing.TB) (*agentProc, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "existing"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		testsupport.Missing(t, "no /dev/fuse: %v", err)
	}
	p := startAgent(t, newNetns(t), agentOpts{flags: []string{"--fuse-data", dir}, mountNS: true})
	caps, err := p.client.Capabilities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !caps.Fuse {
		testsupport.Missing(t, "agent could not mount FUSE: %s", caps.FuseError)
	}
	return p, fmt.Sprintf("/proc/%d/root%s", p.cmd.Process.Pid, dir)
}

// openData opens a file in the mounted folder; it is closed before the
// agent stops (an open file would keep the mount busy).
func openData(t *testing.T, mnt, name string) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(mnt, name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// timed runs op and returns how long it took and its error.
func timed(op func() error) (time.Duration, error) {
	start := time.Now()
	err := op()
	return time.Since(start), err
}

// TestDiskLoopback checks that the mount behaves like the folder beneath it:
// original contents visible, metadata operations (including on the root,
// which the agent reaches through /proc/self/fd) and data written through
// the mount land in the backing folder.
func TestDiskLoopback(t *testing.T) {
	_, mnt := diskAgent(t)
	if b, err := os.ReadFile(filepath.Join(mnt, "existing")); err != nil || string(b) != "kept" {
		t.Fatalf("the folder's original contents through the mount: %q, %v", b, err)
	}
	steps := []struct {
		name string
		op   func() error
	}{
		{"chmod root", func() error { return os.Chmod(mnt, 0o700) }},
		{"chown root", func() error { return os.Chown(mnt, 1000, 1000) }},
		{"mkdir", func() error { return os.Mkdir(filepath.Join(mnt, "sub"), 0o755) }},
		{"write", func() error { return os.WriteFile(filepath.Join(mnt, "sub", "a"), []byte("v"), 0o600) }},
		{"rename", func() error { return os.Rename(filepath.Join(mnt, "sub", "a"), filepath.Join(mnt, "b")) }},
		{"remove", func() error { return os.Remove(filepath.Join(mnt, "sub")) }},
	}
	for _, s := range steps {
		if err := s.op(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	st, err := os.Stat(mnt)
	if err != nil || st.Mode().Perm() != 0o700 || st.Sys().(*syscall.Stat_t).Uid != 1000 {
		t.Errorf("root after chmod/chown: %v, %v", st.Mode(), err)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "b")); err != nil || string(b) != "v" {
		t.Errorf("renamed file: %q, %v", b, err)
	}
}

// TestDiskStall stalls the data folder for one second: an fsync issued
// during the stall returns only after the heal, at least a second later.
func TestDiskStall(t *testing.T) {
	p, mnt := diskAgent(t)
	f := openData(t, mnt, "wal")
	if _, err := f.Write([]byte("entry")); err != nil {
		t.Fatal(err)
	}
	before, err := timed(f.Sync)
	if err != nil {
		t.Fatalf("before: fsync: %v", err)
	}
	applying := time.Now()
	p.apply(t, agent.Fault{ID: "stall", Kind: kind.DiskStall})
	type result struct {
		d   time.Duration
		err error
	}
	done := make(chan result, 1)
	began := make(chan time.Time, 1)
	go func() {
		began <- time.Now()
		d, err := timed(f.Sync)
		done <- result{d, err}
	}()
	// Heal a second after the fsync was issued (not after the goroutine
	// was asked for: a busy machine may start it late).
	time.Sleep(time.Until((<-began).Add(time.Second)))
	healed := p.heal(t, "stall")
	active := time.Since(applying) // the stall cannot hold anything longer
	r := <-done
	after := fastestSync(f, 5)
	t.Logf("fsync before %v, stalled %v, after %v; measured %+v", before, r.d, after, healed.Measured)
	if r.err != nil || r.d < time.Second {
		t.Errorf("stalled fsync took %v (%v), want >= 1s", r.d, r.err)
	}
	// The agent times the stall from when the call reached the FUSE layer,
	// which on a busy machine is a little after the caller issued it; and
	// no operation can be held longer than the fault was in place, from
	// the apply request to the heal's answer, as this test timed it.
	stalled := float64(r.d.Milliseconds())
	if m := healed.Measured; m.OpsStalled < 1 || m.MaxStallMS < stalled/2 || m.MaxStallMS > float64(active.Milliseconds()) {
		t.Errorf("measured %d ops stalled, max %.0f ms; want >= 1, at least half the caller's %.0f ms and at most the %v the stall was in place",
			m.OpsStalled, m.MaxStallMS, stalled, active)
	}
	// Fast again: compared with the stall, not with an absolute figure;
	// the fastest of a few, since one fsync can wait behind a busy disk,
	// while a layer still stalling would hold every one of them.
	if after > r.d/4 {
		t.Errorf("after heal: the fastest of 5 fsyncs took %v, want far less than the stalled %v (before: %v)", after, r.d, before)
	}
}

// TestDiskSlow adds 100 ms to every operation: no slowed operation is
// faster than the delay, and after the heal an fsync is faster than a
// slowed one by most of the delay. Both fsync figures are the fastest of a
// few, taken in the same minute, so what a busy disk adds to each is
// alike and cancels; the delay is what remains.
func TestDiskSlow(t *testing.T) {
	const delay = 100 * time.Millisecond
	p, mnt := diskAgent(t)
	f := openData(t, mnt, "slow")
	p.apply(t, agent.Fault{ID: "slow", Kind: kind.DiskSlow,
		Params: agent.Params{Params: kind.Params{Delay: kind.Duration(delay)}}})
	var slowest, fastest, fastestSlowSync time.Duration = 0, time.Hour, time.Hour
	for range 3 {
		for i, op := range []func() error{
			func() error { _, err := f.WriteAt([]byte("x"), 0); return err },
			f.Sync,
		} {
			d, err := timed(op)
			if err != nil {
				t.Fatal(err)
			}
			slowest, fastest = max(slowest, d), min(fastest, d)
			if i == 1 {
				fastestSlowSync = min(fastestSlowSync, d)
			}
		}
	}
	m := p.heal(t, "slow").Measured
	after := fastestSync(f, 5)
	t.Logf("slowed ops took %v..%v (fsync from %v), fastest of 5 fsyncs after heal %v; measured %+v",
		fastest, slowest, fastestSlowSync, after, m)
	if fastest < delay {
		t.Errorf("fastest slowed op %v, want >= %v", fastest, delay)
	}
	if m.OpsSlowed < 6 {
		t.Errorf("measured %d ops slowed, want >= 6", m.OpsSlowed)
	}
	if after > fastestSlowSync-delay/2 {
		t.Errorf("after heal: fsync took %v, want at least %v under the fastest slowed fsync %v", after, delay/2, fastestSlowSync)
	}
}

// fastestSync is the fastest of n fsyncs of f.
func fastestSync(f *os.File, n int) time.Duration {
	fastest := time.Duration(math.MaxInt64)
	for range n {
		if d, err := timed(f.Sync); err == nil {
			fastest = min(fastest, d)
		}
	}
	return fastest
}

// TestDiskError makes write and fsync fail with EIO (which also proves the
// agent sees writes despite kernel passthrough), and reads keep working.
func TestDiskError(t *testing.T) {
	p, mnt := diskAgent(t)
	f := openData(t, mnt, "err")
	if _, err := f.WriteAt([]byte("ok"), 0); err != nil {
		t.Fatal(err)
	}
	p.apply(t, agent.Fault{ID: "eio", Kind: kind.DiskError})
	_, werr := f.WriteAt([]byte("lost"), 0)
	serr := f.Sync()
	buf := make([]byte, 2)
	_, rerr := f.ReadAt(buf, 0)
	m := p.heal(t, "eio").Measured
	t.Logf("write: %v, fsync: %v, read: %v; measured %+v", werr, serr, rerr, m)
	if !errors.Is(werr, syscall.EIO) || !errors.Is(serr, syscall.EIO) {
		t.Errorf("write %v, fsync %v; want EIO for both", werr, serr)
	}
	if rerr != nil || string(buf) != "ok" {
		t.Errorf("read %q, %v; want the old data", buf, rerr)
	}
	if m.OpsFailed < 2 {
		t.Errorf("measured %d ops failed, want >= 2", m.OpsFailed)
	}
	if _, err := f.WriteAt([]byte("ok"), 0); err != nil {
		t.Errorf("write after heal: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Errorf("fsync after heal: %v", err)
	}
}
