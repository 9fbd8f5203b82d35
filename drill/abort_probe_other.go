//go:build !unix

package drill

import "os/exec"

// ownGroup is a no-op where process groups are not available: the command
// itself is killed on timeout, and WaitDelay bounds the wait for its
// children's output.
func ownGroup(*exec.Cmd) {}
