package cleanup

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/hadrill/hadrill/cluster/label"
)

// Owner identifies the process that created a run's resources, as the
// owner labels (label.OwnerHost, label.OwnerPID, label.OwnerStart) record
// it. cluster.Start writes Self's labels on everything it creates; the
// clean-up reads them back (ownerOf) and asks Alive.
type Owner struct {
	Host  string
	PID   int
	Start string
}

var (
	selfOnce sync.Once
	self     Owner
)

// Self is this process as an owner. It is computed once: it cannot change.
func Self() Owner {
	selfOnce.Do(func() {
		host, _ := os.Hostname()
		self = Owner{Host: host, PID: os.Getpid()}
		self.Start, _ = startToken(self.PID)
	})
	return self
}

// Labels are the owner labels to put on a resource.
func (o Owner) Labels() map[string]string {
	return map[string]string{
		label.OwnerHost:  o.Host,
		label.OwnerPID:   strconv.Itoa(o.PID),
		label.OwnerStart: o.Start,
	}
}

// ownerOf reads the owner labels of a resource; ok is false when it has
// none (made by a hadrill that did not record owners, or by hand).
func ownerOf(labels map[string]string) (o Owner, ok bool) {
	pid, err := strconv.Atoi(labels[label.OwnerPID])
	if err != nil || labels[label.OwnerHost] == "" {
		return Owner{}, false
	}
	return Owner{Host: labels[label.OwnerHost], PID: pid, Start: labels[label.OwnerStart]}, true
}

// Liveness is what can be said about an owner from here.
type Liveness int

// The answers Alive gives.
const (
	// OwnerGone: the process has exited (or the host rebooted since). A
	// process that has exited but that its parent has not yet reaped (a
	// zombie) is gone too: it runs no code and will never tear down.
	OwnerGone Liveness = iota
	// OwnerAlive: the very process that created the resource still runs.
	OwnerAlive
	// OwnerUnknown: the owner ran on another host, or recorded no owner,
	// so nothing here can tell whether it still runs.
	OwnerUnknown
)

// Alive says whether the owner process still runs, as seen from this host.
// An exited process not yet reaped (state Z in /proc/<pid>/stat) does not:
// a CI step that kills a hung drill and cleans up at once, before the
// drill's parent has waited for it, must find its runs removable.
func (o Owner) Alive() Liveness {
	if host, _ := os.Hostname(); host != o.Host {
		return OwnerUnknown
	}
	st, err := readProc(o.PID)
	if err != nil {
		return OwnerGone // no such process
	}
	if o.Start != "" && st.token != o.Start {
		return OwnerGone // the pid was reused, or the host rebooted
	}
	if st.state == "Z" || st.state == "X" {
		return OwnerGone // exited, not yet reaped (X: being reaped)
	}
	return OwnerAlive
}

// String is "pid 123 on host" for messages.
func (o Owner) String() string { return fmt.Sprintf("pid %d on %s", o.PID, o.Host) }

// startToken is "<boot id>:<start ticks>" of a process.
func startToken(pid int) (string, error) {
	st, err := readProc(pid)
	return st.token, err
}

// procState is what /proc/<pid>/stat says of a process: its state letter
// (R, S, D, Z, ...) and its start token.
type procState struct {
	state string
	token string
}

// readProc reads a process's state and start token from /proc.
func readProc(pid int) (procState, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procState{}, fmt.Errorf("read process %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields after it start past the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procState{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return procState{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return procState{}, fmt.Errorf("read boot id: %w", err)
	}
	// f[0] is field 3 (state), so field 22 (starttime) is f[19].
	return procState{state: f[0], token: strings.TrimSpace(string(boot)) + ":" + f[19]}, nil
}
