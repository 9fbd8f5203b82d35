package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestBrokenDNSIsUnknownNotFail breaks name resolution inside node n2 from
// outside the run, while it runs, with no fault of the run in force: an
// nftables table of the test's own, entered through the container's pid
// (nsenter, not docker exec or the node agent), drops DNS to Docker's
// resolver. The final probe sees n2 unable to resolve its peers, so the
// verdict is unknown with that reason, and the exit code is 3
// (environment), never 1.
func TestBrokenDNSIsUnknownNotFail(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	testsupport.NeedTool(t, "nsenter")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := t.TempDir()
	run := startHadrill(ctx, t, "run", "testdata/broken-dns.yaml", "--results", root)
	broken := false
	code := run.sample(200*time.Millisecond, func() {
		if !broken && strings.Contains(run.out.String(), "ops/s") {
			broken = breakDNS(ctx, t, run.own(), "n2")
		}
	})
	t.Logf("exit %d:\n%s", code, run.out.String())
	if !broken {
		t.Fatal("could not break DNS in n2 during the load")
	}
	assertEnvironmentUnknown(t, run, code, filepath.Join(root, "broken-dns", "latest"), "dns on n2")
	assertNothingLeft(t, root)
}

// TestLostContainerIsUnknownNotFail removes n3's container with the docker
// CLI while the run loads the cluster, with no fault of the run in force.
// hadrill never removes a container during a run, so the heal finds it
// gone: the verdict is unknown with that reason (the engine lost n3's
// container), the exit code is 3, and the rest of the run is removed.
func TestLostContainerIsUnknownNotFail(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := t.TempDir()
	run := startHadrill(ctx, t, "run", "testdata/lost-container.yaml", "--results", root)
	removed := false
	code := run.sample(200*time.Millisecond, func() {
		if removed || !strings.Contains(run.out.String(), "ops/s") {
			return
		}
		id := ownContainer(ctx, run.own(), "n3")
		if id == "" {
			return
		}
		if out, err := exec.CommandContext(ctx, "docker", "rm", "-f", id).CombinedOutput(); err != nil {
			t.Logf("docker rm n3: %v: %s", err, out)
			return
		}
		removed = true
		t.Logf("n3's container removed during the load")
	})
	t.Logf("exit %d:\n%s", code, run.out.String())
	if !removed {
		t.Fatal("could not remove n3's container during the load")
	}
	assertEnvironmentUnknown(t, run, code, filepath.Join(root, "lost-container", "latest"), "container on n3")
	assertNothingLeft(t, root)
}

// breakDNS adds a table that drops DNS to Docker's embedded resolver in
// node's network namespace. The table dies with the container.
func breakDNS(ctx context.Context, t *testing.T, own []string, node string) bool {
	id := ownContainer(ctx, own, node)
	if id == "" {
		return false
	}
	pid, err := exec.CommandContext(ctx, "docker", "inspect", "-f", "{{.State.Pid}}", id).Output()
	if err != nil {
		return false
	}
	// Priority -300 runs before Docker's DNAT of 127.0.0.11:53.
	rules := `table inet envtest {
  chain out { type filter hook output priority -300; ip daddr 127.0.0.11 udp dport 53 drop; ip daddr 127.0.0.11 tcp dport 53 drop; }
}`
	cmd := exec.CommandContext(ctx, "nsenter", "-t", strings.TrimSpace(string(pid)), "-n", "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("nft in %s: %v: %s", node, err, out)
		return false
	}
	t.Logf("DNS to 127.0.0.11 dropped inside %s", node)
	return true
}

// ownContainer is the ID of node's running container in the run whose
// owner filters are own, or "" when there is none (yet).
func ownContainer(ctx context.Context, own []string, node string) string {
	args := append(append([]string{"ps", "-q"}, own...), "--filter", "label=hadrill.node="+node)
	id, err := exec.CommandContext(ctx, "docker", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(id))
}

// assertEnvironmentUnknown checks that a run whose environment broke exited
// 3, that its verdict is unknown with an environment check naming reason,
// and that the summary shows that check.
func assertEnvironmentUnknown(t *testing.T, run *backgroundRun, code int, dir, reason string) {
	t.Helper()
	if code != exitUnknown {
		t.Errorf("exit %d, want %d (environment)", code, exitUnknown)
	}
	v := readVerdict(t, dir)
	env := v.Checks["environment"]
	if v.Verdict != "unknown" || env.Result != "unknown" || !strings.Contains(env.Detail, reason) {
		t.Errorf("verdict %s, environment check %+v: want unknown, naming %q", v.Verdict, env, reason)
	}
	if !strings.Contains(run.out.String(), "environment") {
		t.Errorf("the summary does not show the environment check")
	}
}
