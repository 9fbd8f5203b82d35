package drill

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/faults/agent"
)

// TestCustomizePassesSidecars: the agent gets each sidecar as an --also
// flag (a JSON argv) before the main command, and the spec no longer
// carries them, so the backend does not refuse the node.
func TestCustomizePassesSidecars(t *testing.T) {
	a := &agentSetup{binary: "/bin/true", token: "t"}
	cs := cluster.ContainerSpec{Entrypoint: []string{"/usr/bin/redis-server"},
		Sidecars: [][]string{{"/usr/bin/redis-sentinel", "/data/sentinel.conf"}}}
	if err := a.customize("n1", &cs); err != nil {
		t.Fatal(err)
	}
	if cs.Sidecars != nil {
		t.Errorf("sidecars still in the spec: %q", cs.Sidecars)
	}
	i := slices.Index(cs.Entrypoint, "--also")
	sep := slices.Index(cs.Entrypoint, "--")
	if i < 0 || sep < i || cs.Entrypoint[i+1] != `["/usr/bin/redis-sentinel","/data/sentinel.conf"]` {
		t.Fatalf("entrypoint %q", cs.Entrypoint)
	}
	cfg, err := agent.ParseArgs(cs.Entrypoint[2:], io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sidecars) != 1 || cfg.Sidecars[0][0] != "/usr/bin/redis-sentinel" || cfg.Command[0] != "/usr/bin/redis-server" {
		t.Errorf("the agent parses sidecars %q, command %q", cfg.Sidecars, cfg.Command)
	}
}

// TestCustomizePassesUserToAgent checks that a node whose system runs as a
// user gets the agent as root, with --user and the data folder to hand
// over, so the container itself is not started as that user.
func TestCustomizePassesUserToAgent(t *testing.T) {
	a := &agentSetup{binary: "/bin/true", token: "t"}
	cs := cluster.ContainerSpec{Entrypoint: []string{"/usr/local/bin/run-node"}, User: "postgres"}
	if err := a.customize("n1", &cs); err != nil {
		t.Fatal(err)
	}
	if cs.User != "" {
		t.Errorf("container user: got %q, want root for the agent", cs.User)
	}
	got := strings.Join(cs.Entrypoint, " ")
	if !strings.Contains(got, "--user postgres --user-data "+cluster.DataDir+" -- /usr/local/bin/run-node") {
		t.Errorf("entrypoint: got %q", got)
	}
	plain := cluster.ContainerSpec{Entrypoint: []string{"/bin/x"}}
	if err := a.customize("n1", &plain); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(plain.Entrypoint, "--user") {
		t.Errorf("a system without a user got --user: %v", plain.Entrypoint)
	}
}
