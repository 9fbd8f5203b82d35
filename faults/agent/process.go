package agent

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hadrill/hadrill/faults/kind"
)

// Process faults act on the supervised process group with signals. A crash
// is SIGKILL (no chance to flush or say goodbye) followed by a restart, like
// a node that reboots; a sigstop freezes the process without closing its
// sockets, like a long GC pause or a VM that stopped being scheduled, which
// is what tests lease- and heartbeat-based failure detectors.

// killTimeout bounds how long a crash waits for the process to be reaped.
const killTimeout = 5 * time.Second

// crashFault is an applied crash.
type crashFault struct {
	sup   *supervisor
	old   int
	timer *time.Timer

	mu        sync.Mutex
	restarted bool
	newPID    int
	err       error
}

func init() { register(applyCrash, kind.Crash) }

// applyCrash kills the process group and schedules the restart: after
// restart_after, or at heal when none is given.
func applyCrash(a *Agent, f Fault) (fault, error) {
	if a.sup == nil {
		return nil, fmt.Errorf("%w: the agent supervises no process", ErrUnavailable)
	}
	if f.Params.RestartAfter < 0 {
		return nil, badParams("restart_after must not be negative")
	}
	old, err := a.sup.kill(killTimeout)
	if err != nil {
		return nil, err
	}
	c := &crashFault{sup: a.sup, old: old}
	if d := time.Duration(f.Params.RestartAfter); d > 0 {
		c.timer = time.AfterFunc(d, func() { _ = c.restart() })
	}
	return c, nil
}

// restart starts the process again, once.
func (c *crashFault) restart() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.restarted {
		return c.err
	}
	c.restarted = true
	if c.sup.isClosing() {
		return nil
	}
	c.newPID, c.err = c.sup.start()
	if c.err != nil {
		c.sup.log.Error("restart after crash", "err", c.err)
	}
	return c.err
}

func (c *crashFault) mechanism() string { return "signal" }

func (c *crashFault) measure() (Measured, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Measured{OldPID: c.old, NewPID: c.newPID}, nil
}

// heal restarts the process now if the timer has not done so yet.
func (c *crashFault) heal() (Measured, error) {
	if c.timer != nil {
		c.timer.Stop()
	}
	err := c.restart()
	m, _ := c.measure()
	if err != nil {
		return m, fmt.Errorf("restart process: %w", err)
	}
	return m, nil
}

// sigstopFault is an applied sigstop.
type sigstopFault struct {
	pid int
}

func init() { register(applySigstop, kind.Sigstop) }

// applySigstop stops the process group and waits until the kernel reports
// the process as stopped.
func applySigstop(a *Agent, _ Fault) (fault, error) {
	if a.sup == nil {
		return nil, fmt.Errorf("%w: the agent supervises no process", ErrUnavailable)
	}
	pid := a.sup.current()
	if pid == 0 {
		return nil, fmt.Errorf("%w: no process is running", ErrConflict)
	}
	if err := signalGroup(pid, unix.SIGSTOP); err != nil {
		return nil, err
	}
	stopped := waitFor(time.Second, func() bool {
		st, err := procState(pid)
		return err != nil || st == "T"
	})
	if !stopped {
		_ = signalGroup(pid, unix.SIGCONT)
		return nil, fmt.Errorf("stop process %d: still running after 1s", pid)
	}
	return &sigstopFault{pid: pid}, nil
}

func (s *sigstopFault) mechanism() string { return "signal" }

func (s *sigstopFault) measure() (Measured, error) { return Measured{OldPID: s.pid}, nil }

// heal continues the group. A process that died meanwhile is not an error.
func (s *sigstopFault) heal() (Measured, error) {
	err := signalGroup(s.pid, unix.SIGCONT)
	if err != nil && unix.Kill(s.pid, 0) != nil {
		err = nil
	}
	return Measured{OldPID: s.pid}, err
}

// waitFor polls cond every 5 ms until it holds or the limit passes.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}
