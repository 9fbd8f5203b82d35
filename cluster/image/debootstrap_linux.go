//go:build linux

package image

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// debootstrap installs the base system into root. It runs in a mount
// namespace of its own (Go makes its mounts private), so the /proc and /sys
// it mounts inside root vanish with it even when it is killed, and in a
// process group of its own, so that cancelling ctx kills it and the dpkg and
// chroot processes it started.
func (b debianBase) debootstrap(ctx context.Context, root string) error {
	cmd := exec.CommandContext(ctx, "debootstrap", b.debootstrapArgs(root)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Unshareflags: syscall.CLONE_NEWNS}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = append(os.Environ(), "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("debootstrap %s: %w: %s", b.Release, err, lastLines(string(out), 10))
	}
	return nil
}

// removeRootfs removes a temporary root file system. Should anything still
// be mounted below it (a debootstrap that escaped its namespace), it is
// unmounted first: removing files through a mounted /proc or /sys is never
// what is meant, so the folder is left in place if unmounting fails.
func removeRootfs(dir string) {
	mounts, err := mountsUnder(dir)
	if err != nil {
		slog.Warn("leave temporary root file system", "dir", dir, "err", err)
		return
	}
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			slog.Warn("leave temporary root file system", "dir", dir, "err", fmt.Errorf("unmount %s: %w", m, err))
			return
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		slog.Warn("remove temporary root file system", "dir", dir, "err", err)
	}
}

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			found = append(found, fields[4])
		}
	}
	slices.SortFunc(found, func(a, b string) int { return len(b) - len(a) })
	return found, sc.Err()
}
