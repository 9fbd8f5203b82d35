package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/cluster/image"
)

// testHakv describes the hakv binary to the backend for the backend's own
// tests. The real plug-in lives in systems/hakv, which imports this package;
// the backend is tested on the same real binary through this small
// description, with no options beyond the flags each test passes.
type testHakv struct {
	Binary string
	// Args are extra flags for every node.
	Args []string
}

const testHakvPort = 7000

func (testHakv) Name() string    { return "hakv" }
func (testHakv) ClientPort() int { return testHakvPort }
func (testHakv) Health() HealthCheck {
	return HealthCheck{Path: "/healthz", Timeout: time.Second}
}

func (h testHakv) Image(context.Context) (image.Spec, error) {
	bin, err := os.ReadFile(h.Binary)
	if err != nil {
		return image.Spec{}, fmt.Errorf("read hakv binary: %w", err)
	}
	return image.Spec{
		Repo:       "hadrill/hakv",
		Dockerfile: "FROM scratch\nCOPY hakv /hakv\nWORKDIR " + DataDir + "\nENTRYPOINT [\"/hakv\"]\n",
		Files:      []image.File{{Path: "hakv", Content: bin, Mode: 0o755}},
	}, nil
}

func (h testHakv) Container(cfg NodeConfig) (ContainerSpec, error) {
	peers := make([]string, len(cfg.Peers))
	for i, p := range cfg.Peers {
		peers[i] = p.Name + "=" + p.Addr()
	}
	args := append([]string{"--id", cfg.Name, "--listen", fmt.Sprintf("0.0.0.0:%d", testHakvPort),
		"--peers", strings.Join(peers, ","), "--data", cfg.DataDir}, h.Args...)
	return ContainerSpec{Entrypoint: []string{"/hakv"}, Cmd: args}, nil
}

// Claims asks each node for GET /status.
func (testHakv) Claims(ctx context.Context, nodes []*Node) ([]Claim, error) {
	claims := make([]Claim, len(nodes))
	for i, n := range nodes {
		claims[i] = Claim{Node: n.Name()}
		var st struct {
			Role    string `json:"role"`
			Epoch   uint64 `json:"epoch"`
			Primary string `json:"primary"`
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.ClientAddr()+"/status", nil)
		resp, err := ProbeClient.Do(req)
		if err != nil {
			claims[i].Err = err
			continue
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			claims[i].Err = err
			continue
		}
		claims[i].Role, claims[i].Epoch, claims[i].Primary = st.Role, st.Epoch, st.Primary
	}
	return claims, nil
}

// Primary is the node that says it is primary in the highest epoch.
func (h testHakv) Primary(ctx context.Context, nodes []*Node) (string, error) {
	claims, _ := h.Claims(ctx, nodes)
	best, bestEpoch := "", uint64(0)
	for _, c := range claims {
		if c.Err == nil && c.Role == "primary" && (best == "" || c.Epoch > bestEpoch) {
			best, bestEpoch = c.Node, c.Epoch
		}
	}
	if best == "" {
		return "", ErrNoPrimary
	}
	return best, nil
}

// fastFailover are hakv flags for a quick sync/quorum cluster.
var fastFailover = []string{"--replication=sync", "--election=quorum", "--heartbeat=100ms", "--failover-timeout=1s"}

// TestSpecValidate checks the checks Start makes before touching Docker.
func TestSpecValidate(t *testing.T) {
	ok := Spec{System: testHakv{}, Nodes: 3}
	cases := []struct {
		name    string
		edit    func(*Spec)
		wantErr string
	}{
		{"valid", func(*Spec) {}, ""},
		{"no system", func(s *Spec) { s.System = nil }, "no system"},
		{"no nodes", func(s *Spec) { s.Nodes = 0 }, "at least 1 node"},
		{"bad run ID", func(s *Spec) { s.RunID = "a b" }, "run ID"},
		{"role prefix taken", func(s *Spec) { s.System = rolesHakv{roles: []Role{{Name: "sentinel", Prefix: "n", Count: 1}}} }, "prefix"},
		{"customize fails", func(s *Spec) {
			s.Customize = func(string, *ContainerSpec) error { return errors.New("no agent") }
		}, "customize node n1: no agent"},
		{"sidecars without the agent", func(s *Spec) { s.System = sidecarHakv{} }, "only the node agent can supervise them"},
		{"sidecars taken by the agent", func(s *Spec) {
			s.System = sidecarHakv{}
			s.Customize = func(_ string, cs *ContainerSpec) error { cs.Sidecars = nil; return nil }
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			err := s.Validate()
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// nodeFaults is the method set the fault injector needs of a node
// (faults.Node); *Node must keep satisfying it.
var _ interface {
	Name() string
	Kill(ctx context.Context) error
	Stop(ctx context.Context, grace time.Duration) error
	Pause(ctx context.Context) error
	Unpause(ctx context.Context) error
	Start(ctx context.Context) error
} = (*Node)(nil)

// rolesHakv is testHakv with auxiliary roles, for the role checks.
type rolesHakv struct {
	testHakv
	roles []Role
}

func (r rolesHakv) Roles(map[string]string) []Role { return r.roles }

// sidecarHakv is testHakv with a sidecar beside each node's process.
type sidecarHakv struct{ testHakv }

func (h sidecarHakv) Container(cfg NodeConfig) (ContainerSpec, error) {
	cs, err := h.testHakv.Container(cfg)
	cs.Sidecars = [][]string{{"/hakv", "--version"}}
	return cs, err
}
