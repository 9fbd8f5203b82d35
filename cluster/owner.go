package cluster

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Owner labels say which hadrill process created a container or network, so
// that `hadrill cleanup` on an engine shared by several drills removes only
// what belongs to processes that are gone, never a neighbour's live drill.
const (
	// LabelOwnerHost is the host name of the owning process.
	LabelOwnerHost = "hadrill.owner.host"
	// LabelOwnerPID is the owning process's pid.
	LabelOwnerPID = "hadrill.owner.pid"
	// LabelOwnerStart tells a pid's one process from any later process given
	// the same pid: the kernel's boot ID and the process's start time in
	// clock ticks since boot (/proc/<pid>/stat field 22). A reboot changes
	// the first, pid reuse the second.
	LabelOwnerStart = "hadrill.owner.start"
)

// Owner identifies the process that created a run's resources.
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
		LabelOwnerHost:  o.Host,
		LabelOwnerPID:   strconv.Itoa(o.PID),
		LabelOwnerStart: o.Start,
	}
}

// withOwner adds this process's owner labels to labels and returns it.
func withOwner(labels map[string]string) map[string]string {
	for k, v := range Self().Labels() {
		labels[k] = v
	}
	return labels
}

// ownerOf reads the owner labels of a resource; ok is false when it has
// none (made by a hadrill that did not record owners, or by hand).
func ownerOf(labels map[string]string) (o Owner, ok bool) {
	pid, err := strconv.Atoi(labels[LabelOwnerPID])
	if err != nil || labels[LabelOwnerHost] == "" {
		return Owner{}, false
	}
	return Owner{Host: labels[LabelOwnerHost], PID: pid, Start: labels[LabelOwnerStart]}, true
}

// Liveness is what can be said about an owner from here.
type Liveness int

// The answers Alive gives.
const (
	// OwnerGone: the process has exited (or the host rebooted since).
	OwnerGone Liveness = iota
	// OwnerAlive: the very process that created the resource still runs.
	OwnerAlive
	// OwnerUnknown: the owner ran on another host, or recorded no owner,
	// so nothing here can tell whether it still runs.
	OwnerUnknown
)

// Alive says whether the owner process still runs, as seen from this host.
func (o Owner) Alive() Liveness {
	if host, _ := os.Hostname(); host != o.Host {
		return OwnerUnknown
	}
	tok, err := startToken(o.PID)
	if err != nil {
		return OwnerGone // no such process
	}
	if o.Start != "" && tok != o.Start {
		return OwnerGone // the pid was reused, or the host rebooted
	}
	return OwnerAlive
}

// String is "pid 123 on host" for messages.
func (o Owner) String() string { return fmt.Sprintf("pid %d on %s", o.PID, o.Host) }

// startToken is "<boot id>:<start ticks>" of a live process.
func startToken(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", fmt.Errorf("read process %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields after it start past the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("read boot id: %w", err)
	}
	// f[0] is field 3 (state), so field 22 (starttime) is f[19].
	return strings.TrimSpace(string(boot)) + ":" + f[19], nil
}
