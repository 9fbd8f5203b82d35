package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestDNSFailureShowsInsideTheNode proves the dns fault by its effect in a
// real node container: n1's own lookups of its peer n2 succeed before the
// fault, fail while it is in force, and succeed again after the heal.
func TestDNSFailureShowsInsideTheNode(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := t.TempDir()
	run := startHadrill(ctx, t, "run", "testdata/dns-failure.yaml", "--results", root)
	var seen []bool // n1 resolves n2, in time order
	var cl *agent.Client
	code := run.sample(300*time.Millisecond, func() {
		if cl == nil {
			cl = agentOf(ctx, run.own(), "n1")
			return
		}
		if p, err := cl.Probe(ctx, "n2", ""); err == nil {
			seen = append(seen, p.ResolveError == "")
		}
	})
	if code != exitOK && code != exitFailed && code != exitUnknown { // a verdict, whichever
		t.Fatalf("exit %d:\n%s", code, run.out.String())
	}
	t.Logf("n1 resolves n2, over time: %v", seen)
	first := strings.Index(pattern(seen), "x")
	last := strings.LastIndex(pattern(seen), "x")
	if first < 1 || last < 0 || !strings.Contains(pattern(seen)[last:], "o") {
		t.Fatalf("lookups %s: want ok, then failing while the fault is in force, then ok again", pattern(seen))
	}
	assertNothingLeft(t, root)
}

// pattern renders lookups as o (resolved) and x (failed).
func pattern(seen []bool) string {
	var b strings.Builder
	for _, ok := range seen {
		if ok {
			b.WriteByte('o')
		} else {
			b.WriteByte('x')
		}
	}
	return b.String()
}

// agentOf finds a node's agent from outside, as a user could: its
// published port and its token, from the running container.
func agentOf(ctx context.Context, own []string, node string) *agent.Client {
	c := ownContainer(ctx, own, node)
	if c == "" {
		return nil
	}
	env, err := exec.CommandContext(ctx, "docker", "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", c).Output()
	if err != nil {
		return nil
	}
	port, err := exec.CommandContext(ctx, "docker", "port", c, "7070/tcp").Output()
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(env), "\n") {
		if tok, ok := strings.CutPrefix(line, "HADRILL_AGENT_TOKEN="); ok {
			return agent.NewClient(strings.TrimSpace(strings.Split(string(port), "\n")[0]), tok)
		}
	}
	return nil
}
