package agent

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestFUSEDeviceNotInherited: a process started after the mount (the node,
// or the node restarted by a crash fault) must not hold /dev/fuse, or a
// killed node deadlocks on its own flush and its container cannot be
// removed.
func TestFUSEDeviceNotInherited(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skip: mounting FUSE needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("skip: %v", err)
	}
	d, err := mountDisk(t.TempDir(), "", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer d.unmount()
	out, err := exec.Command("sh", "-c", `ls -l /proc/$$/fd/; true`).Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "/dev/fuse") {
		t.Fatalf("a child of the agent holds /dev/fuse:\n%s", out)
	}
}
