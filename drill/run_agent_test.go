package drill

import (
	"slices"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/cluster"
)

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
