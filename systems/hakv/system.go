// Package hakv is the reference primary/standby store as a system under
// test: its options, its image (FROM scratch around the static hakv binary),
// its nodes, readiness, client and primary. The store itself, which links
// nothing of the harness, is package store below (systems/hakv/store).
package hakv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/systems"
)

// System is the reference store, hadrill's default system under test. Its
// image is built locally FROM scratch around a static hakv binary. Where the
// binary comes from is the caller's choice: a prebuilt one (Binary), one the
// package compiles from the hadrill module (SourceDir), or, when both are
// empty, the one FindBinary finds. Either way the image tag is the hash of
// the build context, so a second run with the same binary finds the image
// instead of building it.
type System struct {
	// Binary is the path of a static (CGO_ENABLED=0) linux hakv binary.
	Binary string
	// SourceDir is the root of the hadrill module; when Binary is empty the
	// package runs `go build ./cmd/hakv` there (CGO_ENABLED=0, GOOS=linux,
	// -trimpath, so the same source gives the same bytes and the same tag).
	SourceDir string
}

// hakvPort is where hakv listens for clients and for its peers.
const hakvPort = 7000

// hakvDockerfile keeps the image to the binary alone. WORKDIR creates the data
// folder, which a scratch image does not have.
const hakvDockerfile = `FROM scratch
COPY hakv /hakv
WORKDIR ` + cluster.DataDir + `
ENTRYPOINT ["/hakv"]
`

// Options are hakv's settings: the one declaration that both the scenario
// schema and the container set-up use.
func (System) Options() []systems.Option {
	return []systems.Option{
		{Name: "replication", Kind: systems.OptionEnum, Values: []string{"sync", "semi-sync", "async"}, Default: "sync", Flag: "--replication",
			Doc: "when the primary acknowledges a write: once a majority, one standby, or only the primary has it"},
		{Name: "election", Kind: systems.OptionEnum, Values: []string{"quorum", "unilateral"}, Default: "quorum", Flag: "--election",
			Doc: "whether a standby needs a majority to become primary (unilateral allows split brain)"},
		{Name: "failover_timeout", Kind: systems.OptionDuration, Default: "2s", Flag: "--failover-timeout",
			Doc: "heartbeat silence after which a standby starts a failover"},
		{Name: "heartbeat", Kind: systems.OptionDuration, Default: "200ms", Flag: "--heartbeat",
			Doc: "interval of the primary's heartbeats"},
		{Name: "fsync", Kind: systems.OptionEnum, Values: []string{"always", "never"}, Default: "always", Flag: "--fsync",
			Doc: "whether the write-ahead log is fsynced before acknowledging"},
		{Name: "stale_reads", Kind: systems.OptionBool, Default: "false", Flag: "--stale-reads",
			Doc: "whether standbys answer reads from their own copy"},
		{Name: "ship_delay", Kind: systems.OptionDuration, Default: "0s", Flag: "--ship-delay",
			Doc: "async only: ship each entry to the standbys once it is this old (a delayed standby)"},
	}
}

// CheckOptions catches settings hakv would refuse at start, so they fail as
// bad input before anything runs: a failure detector that fires between
// heartbeats (hakv's lease is half the failover timeout, and must outlast
// two heartbeats), and a ship delay without asynchronous replication. The
// values have passed the schema's per-option checks.
func (s System) CheckOptions(opts map[string]string) (string, string) {
	decl := s.Options()
	hb, err1 := time.ParseDuration(systems.Value(decl, opts, "heartbeat"))
	ft, err2 := time.ParseDuration(systems.Value(decl, opts, "failover_timeout"))
	if err1 == nil && err2 == nil && ft <= 2*hb {
		return "failover_timeout", fmt.Sprintf("must be more than twice heartbeat (%s)", hb)
	}
	sd, err := time.ParseDuration(systems.Value(decl, opts, "ship_delay"))
	if err == nil && sd > 0 && systems.Value(decl, opts, "replication") != "async" {
		return "ship_delay", "needs replication: async (sync and semi-sync wait for the standbys)"
	}
	return "", ""
}

// Doc describes hakv for `hadrill list`.
func (System) Doc() string {
	return "the reference primary/standby key-value store (built in): sync, semi-sync or async replication, quorum or unilateral elections"
}

// ClientDoc describes the hakv client.
func (System) ClientDoc() string {
	return "HTTP (/kv): writes follow the primary's 503 hint, reads start at the client's home node; CAS is PUT ?if="
}

// StaticBinary says why clock faults cannot reach hakv: it is one static Go
// binary, which LD_PRELOAD (libfaketime) does not affect.
func (System) StaticBinary() string {
	return "hakv is a static binary (Go, with no ELF interpreter), so no library can be preloaded into it"
}

// Name returns "hakv".
func (System) Name() string { return "hakv" }

// Nodes: hakv runs on any number of nodes; one node is a primary alone.
func (System) Nodes(map[string]string) systems.NodeBounds {
	return systems.NodeBounds{Min: 1, Why: "one node is a primary with no standby"}
}

// ClientPort is hakv's listening port, shared by clients and peers.
func (System) ClientPort() int { return hakvPort }

// Health is GET /healthz, which hakv answers 200 in every role.
func (System) Health() cluster.HealthCheck {
	return cluster.HealthCheck{Path: "/healthz", Timeout: time.Second}
}

// Image gives the build context: the Dockerfile and the binary, compiled
// first when only SourceDir is set. The binary is read into memory (about
// 10 MB) so no temporary file outlives the call.
func (h System) Image(ctx context.Context) (image.Spec, error) {
	path := h.Binary
	if path == "" && h.SourceDir == "" {
		found, err := FindBinary()
		if err != nil {
			return image.Spec{}, err
		}
		path = found
	}
	if path == "" {
		dir, err := os.MkdirTemp("", "hadrill-hakv-")
		if err != nil {
			return image.Spec{}, fmt.Errorf("build hakv: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "hakv")
		if err := buildGoBinary(ctx, h.SourceDir, "./cmd/hakv", path); err != nil {
			return image.Spec{}, fmt.Errorf("build hakv: %w", err)
		}
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return image.Spec{}, fmt.Errorf("read hakv binary: %w", err)
	}
	return image.Spec{
		Repo:       "hadrill/hakv",
		Dockerfile: hakvDockerfile,
		Files:      []image.File{{Path: "hakv", Content: bin, Mode: 0o755}},
	}, nil
}

// BinaryEnv names the environment variable that points at the static hakv
// binary, for runs where it is not beside hadrill.
const BinaryEnv = "HADRILL_HAKV"

// FindBinary locates the static hakv binary the image is built from:
// $HADRILL_HAKV, then hakv beside the running executable (make build puts
// both in bin/), then hakv in $PATH.
func FindBinary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "hakv")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("hakv"); err == nil {
		return p, nil
	}
	return "", errors.New("find hakv binary: none beside hadrill, in $PATH or in $" + BinaryEnv + " (build it with make build)")
}

// buildGoBinary compiles pkg in the module at dir into out, statically and
// reproducibly, for linux on the host's architecture.
func buildGoBinary(ctx context.Context, dir, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Container runs /hakv with its identity, its peers (by network alias) and the
// scenario's options as flags.
func (System) Container(cfg cluster.NodeConfig) (cluster.ContainerSpec, error) {
	peers := make([]string, len(cfg.Peers))
	for i, p := range cfg.Peers {
		peers[i] = p.Name + "=" + p.Addr()
	}
	args := []string{
		"--id", cfg.Name,
		"--listen", fmt.Sprintf("0.0.0.0:%d", hakvPort),
		"--peers", strings.Join(peers, ","),
		"--data", cfg.DataDir,
	}
	opts, err := systems.Flags(System{}.Options(), cfg.Options)
	if err != nil {
		return cluster.ContainerSpec{}, fmt.Errorf("describe hakv node: %w", err)
	}
	args = append(args, opts...)
	return cluster.ContainerSpec{Entrypoint: []string{"/hakv"}, Cmd: args}, nil
}

// hakvStatus is the body of hakv's GET /status.
type hakvStatus struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Epoch   uint64 `json:"epoch"`
	Primary string `json:"primary"`
}

// Claims asks every node for GET /status at once, each with the health
// check's timeout, so a paused or partitioned node costs one timeout, not one
// per node. Nodes that cannot be asked appear with Err set.
func (h System) Claims(ctx context.Context, nodes []*cluster.Node) ([]cluster.Claim, error) {
	claims := make([]cluster.Claim, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { claims[i] = h.claim(ctx, n) })
	}
	wg.Wait()
	return claims, nil
}

func (h System) claim(ctx context.Context, n *cluster.Node) cluster.Claim {
	c := cluster.Claim{Node: n.Name()}
	ctx, cancel := context.WithTimeout(ctx, h.Health().Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.ClientAddr()+"/status", nil)
	if err != nil {
		c.Err = fmt.Errorf("ask %s for status: %w", n.Name(), err)
		return c
	}
	resp, err := cluster.ProbeClient.Do(req)
	if err != nil {
		c.Err = fmt.Errorf("ask %s for status: %w", n.Name(), err)
		return c
	}
	defer resp.Body.Close()
	var st hakvStatus
	if resp.StatusCode != http.StatusOK {
		c.Err = fmt.Errorf("ask %s for status: status %d", n.Name(), resp.StatusCode)
	} else if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		c.Err = fmt.Errorf("decode status of %s: %w", n.Name(), err)
	}
	c.Role, c.Epoch, c.Primary = st.Role, st.Epoch, st.Primary
	return c
}

// Primary is the node that claims the primary role in the highest epoch, ties
// broken by the lowest node name. Only the claimant's own word counts: a
// standby's belief about who is primary may be stale. With epoch fencing, an
// old primary that has not yet noticed its demotion loses to the new one; in
// a real split brain (election=unilateral) two nodes may claim the same epoch,
// and Claims shows both.
func (h System) Primary(ctx context.Context, nodes []*cluster.Node) (string, error) {
	claims, err := h.Claims(ctx, nodes)
	if err != nil {
		return "", err
	}
	return pickPrimary(claims)
}

// pickPrimary applies Primary's rule to a set of claims.
func pickPrimary(claims []cluster.Claim) (string, error) {
	best := -1
	for i, c := range claims {
		if c.Err != nil || c.Role != "primary" {
			continue
		}
		if best < 0 || c.Epoch > claims[best].Epoch ||
			(c.Epoch == claims[best].Epoch && c.Node < claims[best].Node) {
			best = i
		}
	}
	if best >= 0 {
		return claims[best].Node, nil
	}
	var errs []error
	for _, c := range claims {
		if c.Err != nil {
			errs = append(errs, c.Err)
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("%w (%d of %d nodes unreachable): %w", cluster.ErrNoPrimary, len(errs), len(claims), errors.Join(errs...))
	}
	return "", cluster.ErrNoPrimary
}
