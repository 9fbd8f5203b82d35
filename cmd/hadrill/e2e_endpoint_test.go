package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// hadrillEnv runs the CLI with extra environment variables (later ones
// win) and returns its exit code and combined output.
func hadrillEnv(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "hadrill"), args...)
	cmd.Env = append(append(os.Environ(), "TESTCONTAINERS_RYUK_DISABLED=true"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run hadrill %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// dockerConfig writes a docker CLI config folder whose current context
// points at host, as `docker context create x --docker host=...` and
// `docker context use x` would.
func dockerConfig(t *testing.T, name, host string) string {
	t.Helper()
	dir := t.TempDir()
	sum := sha256.Sum256([]byte(name))
	meta := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]))
	js := `{"Name":"` + name + `","Metadata":{},"Endpoints":{"docker":{"Host":"` + host + `","SkipTLSVerify":false}}}`
	if err := os.MkdirAll(meta, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(meta, "meta.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"`+name+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestUnreachableEngineIsExit3 points hadrill at engines that do not exist,
// by DOCKER_HOST and by the current docker context: the run must stop with
// exit 3 on the refusal (not by waiting out the engine's ping timeout),
// name the endpoint, and never fall back to the local engine (no run
// starts, so no build or start phase follows).
//
// "Fails fast" needs no clock: both endpoints refuse at once, so an output
// saying a deadline was exceeded is the slow path. The time is only a hang
// guard of three ping timeouts (24 s), which a run that pings once cannot
// reach on any machine, and a run that retried the engine would.
func TestUnreachableEngineIsExit3(t *testing.T) {
	// engineWait is cluster/engine's pingTimeout (unexported there).
	const engineWait = 8 * time.Second
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"DOCKER_HOST", []string{"DOCKER_HOST=unix:///nonexistent"}, "unix:///nonexistent (DOCKER_HOST)"},
		{"context", []string{"DOCKER_HOST=", "DOCKER_CONFIG=" + dockerConfig(t, "gone", "unix:///nonexistent-ctx")},
			"unix:///nonexistent-ctx (docker context gone)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			began := time.Now()
			code, out := hadrillEnv(t, c.env, "run", "kill-primary", "--results", t.TempDir())
			took := time.Since(began)
			t.Logf("exit %d after %s:\n%s", code, took, out)
			if code != exitUnknown {
				t.Errorf("exit %d after %s, want %d", code, took, exitUnknown)
			}
			if strings.Contains(out, "deadline exceeded") {
				t.Errorf("the run waited out the engine's ping timeout, want the refusal")
			}
			if guard := 3 * engineWait; took > guard {
				t.Errorf("exit after %s, more than three ping timeouts (%s): the engine was tried more than once", took, guard)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("output does not name the endpoint %q", c.want)
			}
			if strings.Contains(out, "start cluster") {
				t.Errorf("the run went on past the engine check")
			}
		})
	}
}

// TestDockerContextIsHonoured reaches the real engine only through a docker
// context (no DOCKER_HOST): cleanup of a run that does not exist succeeds.
func TestDockerContextIsHonoured(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	env := []string{"DOCKER_HOST=", "DOCKER_CONFIG=" + dockerConfig(t, "local", "unix:///var/run/docker.sock")}
	if code, out := hadrillEnv(t, env, "cleanup", "--run", "no-such-run-"+t.Name()); code != exitOK {
		t.Fatalf("cleanup through the docker context: exit %d\n%s", code, out)
	}
}
