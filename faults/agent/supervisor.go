package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The agent is the container's entrypoint (PID 1) and runs the image's
// original entrypoint as its child. It must therefore do what an init does:
// forward termination signals, reap every zombie (orphans are re-parented to
// PID 1), and exit with the child's status. It also owns the child's
// lifecycle for the crash and sigstop faults, which is why a deliberate kill
// does not end the agent.

// supervisor runs and watches the child process.
type supervisor struct {
	argv []string
	env  []string
	log  *slog.Logger
	cred *syscall.Credential // the user the child runs as; nil keeps root (see runAs)

	mu      sync.Mutex
	pid     int           // running child, 0 when none
	expect  int           // pid the agent killed on purpose
	died    chan struct{} // closed when expect is reaped
	closing bool          // shutting down: no more restarts
	exit    chan int      // the child's code when it ended on its own

	sidecars []*sidecar // more processes in the child's group (sidecar.go)
}

// newSupervisor prepares a supervisor; the agent's token is kept out of the
// child's environment.
func newSupervisor(argv []string, log *slog.Logger) *supervisor {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, tokenEnv+"=") {
			env = append(env, kv)
		}
	}
	return &supervisor{argv: argv, env: env, log: log, exit: make(chan int, 1)}
}

// start runs the child in its own process group, so crash and sigstop can
// reach every process of the service (a PostgreSQL postmaster and its
// backends, say), not only the first one.
func (s *supervisor) start() (int, error) {
	path, err := exec.LookPath(s.argv[0])
	if err != nil {
		return 0, fmt.Errorf("find %s: %w", s.argv[0], err)
	}
	if err := s.checkSidecars(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return 0, errors.New("start process: agent is stopping")
	}
	pid, err := syscall.ForkExec(path, s.argv, &syscall.ProcAttr{
		Env: s.env, Files: []uintptr{0, 1, 2}, Sys: &syscall.SysProcAttr{Setpgid: true, Credential: s.cred},
	})
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", path, err)
	}
	s.pid = pid
	s.log.Info("process started", "pid", pid, "argv", s.argv)
	s.startSidecarsLocked(pid)
	return pid, nil
}

// reapLoop reaps children whenever SIGCHLD arrives, until stop is closed.
// Signals coalesce, so each wake-up reaps until nothing is left. The agent
// becomes the subreaper of the child's tree, so orphans come back to it as
// to an init even where it is not PID 1, and a power loss finds them.
func (s *supervisor) reapLoop(stop <-chan struct{}) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		s.log.Warn("become the subreaper of the child's orphans", "err", err)
	}
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, unix.SIGCHLD)
	defer signal.Stop(ch)
	for {
		s.reapAll()
		select {
		case <-ch:
		case <-stop:
			return
		}
	}
}

func (s *supervisor) reapAll() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
		s.onExit(pid, ws)
	}
}

// onExit sorts a reaped process: the child the agent killed, the child
// ending on its own, or an orphan.
func (s *supervisor) onExit(pid int, ws unix.WaitStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case pid == s.expect:
		s.expect = 0
		if pid == s.pid {
			s.pid = 0
		}
		close(s.died)
		s.log.Info("process killed by fault", "pid", pid)
	case pid == s.pid:
		s.pid = 0
		code := exitCode(ws)
		s.log.Info("process exited", "pid", pid, "code", code)
		select {
		case s.exit <- code:
		default:
		}
	case s.sidecarExitedLocked(pid, ws):
	default:
		s.log.Debug("reaped orphan", "pid", pid)
	}
}

// exitCode follows the shell convention: 128+N for death by signal N.
func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// current returns the running child's pid, or 0.
func (s *supervisor) current() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pid
}

// forward passes a signal to the child itself (not its group), as the
// container runtime would have delivered it to the original PID 1.
func (s *supervisor) forward(sig syscall.Signal) bool {
	pid := s.current()
	if pid <= 0 {
		return false
	}
	_ = unix.Kill(pid, sig)
	s.signalSidecars(sig)
	return true
}

// signalGroup sends sig to the child's process group and to the child (in
// case it left the group).
func signalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 { // kill(0) and kill(-1) would hit the agent itself or everything
		return fmt.Errorf("send %s: no process", sig)
	}
	gerr := unix.Kill(-pid, sig)
	perr := unix.Kill(pid, sig)
	if gerr != nil && perr != nil {
		return fmt.Errorf("send %s to %d: %w", sig, pid, perr)
	}
	return nil
}

// kill SIGKILLs the child's group on purpose and waits until the child is
// reaped, so that "effective" means the process is really gone.
func (s *supervisor) kill(limit time.Duration) (int, error) {
	s.mu.Lock()
	pid := s.pid
	if pid == 0 {
		s.mu.Unlock()
		return 0, fmt.Errorf("%w: no process is running", ErrConflict)
	}
	died := make(chan struct{})
	s.expect, s.died = pid, died
	s.mu.Unlock()
	if err := signalGroup(pid, unix.SIGKILL); err != nil {
		return pid, err
	}
	select {
	case <-died:
		return pid, s.waitSidecarsGone(limit)
	case <-time.After(limit):
		return pid, fmt.Errorf("wait for %d to die: timed out after %s", pid, limit)
	}
}

// killNode SIGKILLs every process of the node, as a power cut does: the
// child's group (kill), and every other process below the agent, such as
// PostgreSQL's backends, which each call setsid and so leave the group. It
// waits until none is left running, at most limit, and returns the ones
// still running then.
func (s *supervisor) killNode(limit time.Duration) (pid int, running []int, err error) {
	self := os.Getpid()
	others := descendants(self) // before the group dies and its orphans move
	if pid, err = s.kill(limit); err != nil {
		return pid, nil, err
	}
	deadline := time.Now().Add(limit)
	for ; len(others) > 0; others = descendants(self) {
		if time.Now().After(deadline) {
			return pid, others, nil
		}
		for _, p := range others {
			_ = unix.Kill(p, unix.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return pid, nil, nil
}

// descendants lists the processes below root that are still running
// (zombies are done: they neither run nor write).
func descendants(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	zombie := map[int]bool{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; the command may contain spaces.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
		zombie[pid] = f[0] == "Z"
	}
	var out []int
	for queue := children[root]; len(queue) > 0; queue = queue[1:] {
		p := queue[0]
		if !zombie[p] {
			out = append(out, p)
		}
		queue = append(queue, children[p]...)
	}
	return out
}

// stopping marks the supervisor as shutting down: pending restarts are
// abandoned.
func (s *supervisor) stopping() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
}

func (s *supervisor) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// procState reads the state letter of a process ("R", "S", "T", ...).
func procState(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name is in parentheses and may contain spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+3 > len(b) {
		return "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return string(b[i+2]), nil
}
