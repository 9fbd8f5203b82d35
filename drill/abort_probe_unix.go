//go:build unix

package drill

import (
	"os/exec"
	"syscall"
)

// ownGroup runs a probe command in a process group of its own and kills the
// whole group when the probe runs out of time, so that a command that
// started children (a pipeline, a script) leaves none behind.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
