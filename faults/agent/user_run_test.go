package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestChildRunsAsUser runs the real agent with --user nobody over a FUSE
// data folder it hands to that user, and checks what the child did: it ran
// with nobody's uid, and the file it created in the data folder, through
// the FUSE layer, is owned by nobody in the folder beneath.
func TestChildRunsAsUser(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/dev/fuse"); err != nil {
		testsupport.Missing(t, "no /dev/fuse: %v", err)
	}
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} { // nobody must traverse them
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(base, "data")
	script := "id -u > " + dir + "/uid && echo hello > " + dir + "/made && exec sleep 60"
	p := startAgent(t, newNetns(t), agentOpts{
		flags: []string{"--user", "nobody", "--user-data", dir, "--fuse-data", dir},
		child: []string{"/bin/sh", "-c", script}, mountNS: true,
	})
	caps, err := p.client.Capabilities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !caps.Fuse {
		testsupport.Missing(t, "agent could not mount FUSE: %s", caps.FuseError)
	}
	made := filepath.Join(dir, "made")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(made); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child never wrote %s", made)
		}
		time.Sleep(20 * time.Millisecond)
	}
	uid, err := os.ReadFile(filepath.Join(dir, "uid"))
	if err != nil || strings.TrimSpace(string(uid)) != "65534" {
		t.Errorf("child's uid: got %q, %v; want 65534", uid, err)
	}
	for _, name := range []string{dir, made} {
		var st syscall.Stat_t
		if err := syscall.Stat(name, &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != 65534 {
			t.Errorf("%s is owned by uid %d, want 65534 (nobody)", name, st.Uid)
		}
	}
}
