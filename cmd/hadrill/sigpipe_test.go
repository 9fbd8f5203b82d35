package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestChildrenGetDefaultSIGPIPE: after survivePipeClose, a program hadrill
// starts must not inherit SIGPIPE ignored (debootstrap and apt pipelines
// rely on it). The kernel reports the child's ignored signals in SigIgn.
func TestChildrenGetDefaultSIGPIPE(t *testing.T) {
	survivePipeClose()
	out, err := exec.Command("grep", "^SigIgn:", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	mask, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(string(out), "SigIgn:")), 16, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", out, err)
	}
	const sigpipe = 13
	if mask&(1<<(sigpipe-1)) != 0 {
		t.Errorf("a child process has SIGPIPE ignored (SigIgn %016x)", mask)
	}
}
