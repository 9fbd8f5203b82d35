package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestAgentTokenNeverLeaks runs a short drill whose fault goes through the
// node agent, with debug logging, reads the run's real agent token from a
// node container while it runs, and then looks for that token everywhere
// the run wrote: stdout, stderr (debug log included) and every file of the
// run folder (node logs, history, verdict, reports).
func TestAgentTokenNeverLeaks(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := t.TempDir()
	run := startHadrill(ctx, t, "run", "-v", "testdata/dns-failure.yaml", "--results", root)
	var token string
	code := run.sample(300*time.Millisecond, func() {
		if token == "" {
			token = agentToken(ctx, run.own())
		}
	})
	if code != exitOK && code != exitFailed && code != exitUnknown { // a verdict, whichever
		t.Fatalf("exit %d:\n%s", code, run.out.String())
	}
	if len(token) < 16 {
		t.Fatalf("could not read the agent token from a node (%q)", token)
	}
	if bytes.Contains(run.out.Bytes(), []byte(token)) {
		t.Errorf("the token is in hadrill's output")
	}
	files := 0
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&os.ModeSymlink != 0 {
			return err // latest is a link to the run folder, read already
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("read %s: %v", path, err)
		} else if bytes.Contains(b, []byte(token)) {
			t.Errorf("the token is in %s", path)
		}
		return nil
	})
	t.Logf("token of %d hex digits absent from the output (%d bytes) and from %d files", len(token), run.out.Len(), files)
	if files < 5 {
		t.Errorf("only %d files in the run folder: the search proves little", files)
	}
	assertNothingLeft(t, root)
}

// agentToken reads HADRILL_AGENT_TOKEN from one of the run's containers.
func agentToken(ctx context.Context, own []string) string {
	ids, err := exec.CommandContext(ctx, "docker", append([]string{"ps", "-q"}, own...)...).Output()
	if err != nil || len(bytes.TrimSpace(ids)) == 0 {
		return ""
	}
	id := strings.Fields(string(ids))[0]
	env, err := exec.CommandContext(ctx, "docker", "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", id).Output()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(env), "\n") {
		if tok, ok := strings.CutPrefix(line, "HADRILL_AGENT_TOKEN="); ok {
			return strings.TrimSpace(tok)
		}
	}
	return ""
}
