package agent_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/hadrill/hadrill/internal/testsupport"
)

// The power-loss model (powerloss.go): metadata is one ordered journal
// that any fsync commits, as on ext4; file data not fsynced is lost.

// TestPowerLossRenamedDirectory replays how etcd creates its WAL: a
// temporary folder, a probe file made and removed in it, the first segment
// written and fsynced, then the folder renamed into place and its parent
// fsynced. Everything is durable, so nothing is undone; a write after the
// rename and never fsynced is rolled back at the file's current path.
func TestPowerLossRenamedDirectory(t *testing.T) {
	p, mnt := diskAgent(t)
	member := filepath.Join(mnt, "member")
	if err := os.Mkdir(member, 0o755); err != nil {
		t.Fatal(err)
	}
	syncDir(t, mnt)
	tmp := filepath.Join(member, "wal.tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, tmp, ".touch", nil, 0, false)
	if err := os.Remove(filepath.Join(tmp, ".touch")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, tmp, "0.wal", []byte("entry"), 0, true)
	if err := os.Rename(tmp, filepath.Join(member, "wal")); err != nil {
		t.Fatal(err)
	}
	syncDir(t, member)
	writeFile(t, filepath.Join(member, "wal"), "0.wal", []byte("LOST"), 0, false)

	p.apply(t, agent.Fault{ID: "pl", Kind: kind.PowerLoss})
	m := p.heal(t, "pl").Measured
	got, err := os.ReadFile(filepath.Join(member, "wal", "0.wal"))
	if err != nil || string(got) != "entry" {
		t.Errorf("wal/0.wal after power loss: %q, %v; want the fsynced %q", got, err, "entry")
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("wal.tmp after power loss: %v, want it gone (its rename was made durable)", err)
	}
	if m.EntriesUndone != 0 || m.FilesRolledBack != 1 {
		t.Errorf("measured %d entries undone, %d files rolled back; want 0 and 1", m.EntriesUndone, m.FilesRolledBack)
	}
}

// TestPowerLossSiblingFsyncCommitsMkdir: a folder made and never fsynced
// survives when a file beside it is fsynced afterwards (the fsync commits
// the journal with the mkdir in it); one made after that last fsync is
// lost.
func TestPowerLossSiblingFsyncCommitsMkdir(t *testing.T) {
	p, mnt := diskAgent(t)
	for _, dir := range []string{"member", "member/snap"} {
		if err := os.Mkdir(filepath.Join(mnt, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, mnt, "member/snap/db", []byte("state"), 0, true)
	if err := os.Mkdir(filepath.Join(mnt, "later"), 0o755); err != nil {
		t.Fatal(err)
	}

	p.apply(t, agent.Fault{ID: "pl", Kind: kind.PowerLoss})
	m := p.heal(t, "pl").Measured
	if got, err := os.ReadFile(filepath.Join(mnt, "member/snap/db")); err != nil || string(got) != "state" {
		t.Errorf("member/snap/db after power loss: %q, %v; want %q (its fsync made the mkdirs durable)", got, err, "state")
	}
	if _, err := os.Stat(filepath.Join(mnt, "later")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("later/ after power loss: %v, want it gone (made after the last fsync)", err)
	}
	if m.EntriesUndone != 1 {
		t.Errorf("measured %d entries undone, want 1 (the last mkdir)", m.EntriesUndone)
	}
}

// TestPowerLossAnswersWithOutsideWriter cuts the power while a process the
// power loss does not kill (here one the test started, as a docker exec
// would be) keeps creating, writing and reading files in the folder whose
// entries the rollback undoes. The rollback must not wait on that process
// while it waits on the rollback: the agent answers, and stays usable.
func TestPowerLossAnswersWithOutsideWriter(t *testing.T) {
	p, mnt := diskAgent(t)
	var st unix.Stat_t
	if err := unix.Stat(mnt, &st); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(mnt, "busy")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	syncDir(t, mnt)
	for i := range 200 { // dirty files, so that the rollback takes a while
		writeFile(t, dir, fmt.Sprintf("f%d", i), bytes.Repeat([]byte{'x'}, 8192), 0, false)
	}
	churn := exec.Command(os.Args[0], childArg, "churn", dir)
	churn.Env = os.Environ()
	if err := churn.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = churn.Process.Kill(); _ = churn.Wait() })
	waitChurn(t, dir)

	done := make(chan error, 1)
	go func() {
		_, err := p.client.Apply(t.Context(), agent.Fault{ID: "pl", Kind: kind.PowerLoss})
		done <- err
	}()
	var err error
	select {
	case err = <-done: // the client gives up after 10 s, far past any rollback of 200 files
	case <-time.After(30 * time.Second):
		err = errors.New("no answer in 30 s")
	}
	if err != nil {
		abortFUSE(t, st.Dev)
		t.Fatalf("power-loss: %v: the rollback and the churn wait on each other (FUSE connection aborted)", err)
	}
	p.heal(t, "pl")
	if _, err := os.ReadDir(dir); err != nil {
		t.Errorf("read the folder after the power loss: %v", err)
	}
}

// churn creates, writes and reads files in dir until killed.
func churn(dir string) int {
	buf := make([]byte, 4096)
	// The marker says the churn is under way (waitChurn); it is written
	// once and never removed.
	if err := os.WriteFile(filepath.Join(dir, churnMarker), nil, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	for i := 0; ; i++ {
		name := filepath.Join(dir, fmt.Sprintf("c%d", i%50))
		_ = os.WriteFile(name, buf, 0o644)
		_, _ = os.ReadFile(filepath.Join(dir, fmt.Sprintf("f%d", i%200)))
		_ = os.Remove(name)
	}
}

// churnMarker is the file churn writes in its folder once it has started.
const churnMarker = "churning"

// waitChurn waits until the churn in dir is under way, at most a minute
// (a hang guard, not a timing assertion).
func waitChurn(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, churnMarker)); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the churn never started")
		}
	}
}

// abortFUSE aborts the FUSE connection of the mount with device dev, the
// only way out of a deadlock between the kernel and the daemon. fusectl is
// mounted in a private mount namespace of a thread that is then thrown
// away, so the host's mounts are left alone.
func abortFUSE(t *testing.T, dev uint64) {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		done <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return err
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return err
			}
			if err := unix.Mount("none", "/sys/fs/fuse/connections", "fusectl", 0, ""); err != nil {
				return err
			}
			path := fmt.Sprintf("/sys/fs/fuse/connections/%d/abort", unix.Minor(dev))
			return os.WriteFile(path, []byte("1"), 0o200)
		}()
	}()
	if err := <-done; err != nil && !errors.Is(err, syscall.ENOENT) {
		t.Errorf("abort the FUSE connection: %v", err)
	}
}

// daemon starts a churn in a session of its own, records its pid, and
// waits to be killed.
func daemon(dir, pidFile string) int {
	cmd := exec.Command(os.Args[0], childArg, "churn", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return 1
	}
	select {}
}

// TestPowerLossKillsWholeNode: the supervised process started a writer in
// a session of its own, out of the process group, as PostgreSQL's
// postmaster does with every backend. A power cut stops it too, before the
// rollback, so nothing writes on the rolled-back folder.
func TestPowerLossKillsWholeNode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(dir, "busy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		testsupport.Missing(t, "no /dev/fuse: %v", err)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := startAgent(t, newNetns(t), agentOpts{flags: []string{"--fuse-data", dir}, mountNS: true,
		child: []string{os.Args[0], childArg, "daemon", filepath.Join(dir, "busy"), pidFile}})
	var pid int
	for range 100 {
		b, _ := os.ReadFile(pidFile)
		if pid, _ = strconv.Atoi(string(b)); pid > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the daemon never started")
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	waitChurn(t, filepath.Join(dir, "busy"))
	p.apply(t, agent.Fault{ID: "pl", Kind: kind.PowerLoss})
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	alive := err == nil && !bytes.Contains(b[bytes.LastIndexByte(b, ')'):], []byte(") Z"))
	p.heal(t, "pl")
	if alive {
		t.Errorf("the writer in its own session (pid %d) still runs after the power loss", pid)
	}
}
