package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Sidecars are more processes the agent supervises beside the main one: a
// Sentinel living with its Redis, as in Jepsen's set-up. They run in the
// main process's process group, so everything that acts on the group acts
// on them too: a crash kills them with the main process (and they come back
// with it), a sigstop freezes them. A stop signal is forwarded to each of
// them. The main process alone decides the agent's exit code; when it ends,
// the sidecars are stopped too. A sidecar that ends on its own is logged and
// not restarted, so a node that lost its sidecar shows it in its log.

// sidecar is one supervised extra process.
type sidecar struct {
	argv []string
	pid  int // running, 0 when none
}

// sidecarFlag is the repeatable --also flag: one JSON array of strings per
// sidecar command, so arguments with spaces need no quoting rules of ours.
type sidecarFlag struct{ cmds *[][]string }

func (f sidecarFlag) String() string {
	if f.cmds == nil {
		return ""
	}
	b, _ := json.Marshal(*f.cmds)
	return string(b)
}

func (f sidecarFlag) Set(v string) error {
	var argv []string
	if err := json.Unmarshal([]byte(v), &argv); err != nil {
		return fmt.Errorf("parse sidecar command %q: want a JSON array of strings: %w", v, err)
	}
	if len(argv) == 0 || argv[0] == "" {
		return fmt.Errorf("parse sidecar command %q: empty", v)
	}
	*f.cmds = append(*f.cmds, argv)
	return nil
}

// setSidecars records the sidecar commands (before start).
func (s *supervisor) setSidecars(cmds [][]string) {
	for _, argv := range cmds {
		s.sidecars = append(s.sidecars, &sidecar{argv: slices.Clone(argv)})
	}
}

// checkSidecars finds every sidecar's program, so that a missing one stops
// the start before the main process runs.
func (s *supervisor) checkSidecars() error {
	for _, sc := range s.sidecars {
		if _, err := exec.LookPath(sc.argv[0]); err != nil {
			return fmt.Errorf("find sidecar %s: %w", sc.argv[0], err)
		}
	}
	return nil
}

// startSidecarsLocked starts every sidecar that is not running in the
// process group pgid (the main process's). s.mu is held.
func (s *supervisor) startSidecarsLocked(pgid int) {
	for _, sc := range s.sidecars {
		if sc.pid != 0 {
			s.log.Warn("sidecar still running; not started again", "pid", sc.pid, "argv", sc.argv)
			continue
		}
		path, err := exec.LookPath(sc.argv[0])
		if err == nil {
			sc.pid, err = syscall.ForkExec(path, sc.argv, &syscall.ProcAttr{
				Env: s.env, Files: []uintptr{0, 1, 2}, Sys: &syscall.SysProcAttr{Setpgid: true, Pgid: pgid, Credential: s.cred},
			})
		}
		if err != nil {
			s.log.Error("start sidecar", "argv", sc.argv, "err", err)
			continue
		}
		s.log.Info("sidecar started", "pid", sc.pid, "argv", sc.argv)
	}
}

// sidecarExitedLocked records the end of a sidecar, and reports whether pid
// was one. s.mu is held.
func (s *supervisor) sidecarExitedLocked(pid int, ws unix.WaitStatus) bool {
	for _, sc := range s.sidecars {
		if sc.pid == pid {
			sc.pid = 0
			s.log.Info("sidecar exited", "pid", pid, "code", exitCode(ws), "argv", sc.argv)
			return true
		}
	}
	return false
}

// sidecarPIDs lists the running sidecars.
func (s *supervisor) sidecarPIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pids []int
	for _, sc := range s.sidecars {
		if sc.pid != 0 {
			pids = append(pids, sc.pid)
		}
	}
	return pids
}

// signalSidecars sends sig to every running sidecar.
func (s *supervisor) signalSidecars(sig syscall.Signal) {
	for _, pid := range s.sidecarPIDs() {
		_ = unix.Kill(pid, sig)
	}
}

// waitSidecarsGone waits until every sidecar has been reaped.
func (s *supervisor) waitSidecarsGone(limit time.Duration) error {
	if waitFor(limit, func() bool { return len(s.sidecarPIDs()) == 0 }) {
		return nil
	}
	return fmt.Errorf("wait for sidecars %v to end: timed out after %s", s.sidecarPIDs(), limit)
}

// endSidecars stops the sidecars once the main process has ended: SIGTERM
// (continuing them first, in case a sigstop froze them), then SIGKILL after
// limit.
func (s *supervisor) endSidecars(limit time.Duration) {
	if len(s.sidecarPIDs()) == 0 {
		return
	}
	s.signalSidecars(unix.SIGCONT)
	s.signalSidecars(unix.SIGTERM)
	err := s.waitSidecarsGone(limit)
	if err == nil {
		return
	}
	s.log.Warn("sidecars ignored SIGTERM; killing them", "err", err)
	s.signalSidecars(unix.SIGKILL)
	if err := s.waitSidecarsGone(time.Second); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.log.Error("kill sidecars", "err", err)
	}
}
