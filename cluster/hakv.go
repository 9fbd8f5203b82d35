package cluster

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
)

// HAKV is the reference store, hadrill's default system under test. Its image
// is built locally FROM scratch around a static hakv binary. Where the binary
// comes from is the caller's choice: a prebuilt one (Binary), or one the
// package compiles from the hadrill module (SourceDir). Either way the image
// tag is the hash of the build context, so a second run with the same binary
// finds the image instead of building it.
type HAKV struct {
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
WORKDIR ` + DataDir + `
ENTRYPOINT ["/hakv"]
`

// Options are hakv's settings: the one declaration that both the scenario
// schema and the container set-up use.
func (HAKV) Options() []Option {
	return []Option{
		{"replication", OptionEnum, []string{"sync", "semi-sync", "async"}, "sync",
			"when the primary acknowledges a write: once a majority, one standby, or only the primary has it", "--replication"},
		{"election", OptionEnum, []string{"quorum", "unilateral"}, "quorum",
			"whether a standby needs a majority to become primary (unilateral allows split brain)", "--election"},
		{"failover_timeout", OptionDuration, nil, "2s",
			"heartbeat silence after which a standby starts a failover", "--failover-timeout"},
		{"heartbeat", OptionDuration, nil, "200ms", "interval of the primary's heartbeats", "--heartbeat"},
		{"fsync", OptionEnum, []string{"always", "never"}, "always",
			"whether the write-ahead log is fsynced before acknowledging", "--fsync"},
		{"stale_reads", OptionBool, nil, "false", "whether standbys answer reads from their own copy", "--stale-reads"},
		{"ship_delay", OptionDuration, nil, "0s",
			"async only: ship each entry to the standbys once it is this old (a delayed standby)", "--ship-delay"},
	}
}

// Name returns "hakv".
func (HAKV) Name() string { return "hakv" }

// ClientPort is hakv's listening port, shared by clients and peers.
func (HAKV) ClientPort() int { return hakvPort }

// Health is GET /healthz, which hakv answers 200 in every role.
func (HAKV) Health() HealthCheck { return HealthCheck{Path: "/healthz", Timeout: time.Second} }

// Image gives the build context: the Dockerfile and the binary, compiled
// first when only SourceDir is set. The binary is read into memory (about
// 10 MB) so no temporary file outlives the call.
func (h HAKV) Image(ctx context.Context) (ImageSpec, error) {
	path := h.Binary
	if path == "" {
		if h.SourceDir == "" {
			return ImageSpec{}, errors.New("get hakv binary: set HAKV.Binary or HAKV.SourceDir")
		}
		dir, err := os.MkdirTemp("", "hadrill-hakv-")
		if err != nil {
			return ImageSpec{}, fmt.Errorf("build hakv: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "hakv")
		if err := buildGoBinary(ctx, h.SourceDir, "./cmd/hakv", path); err != nil {
			return ImageSpec{}, fmt.Errorf("build hakv: %w", err)
		}
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return ImageSpec{}, fmt.Errorf("read hakv binary: %w", err)
	}
	return ImageSpec{
		Repo:       "hadrill/hakv",
		Dockerfile: hakvDockerfile,
		Files:      []File{{Path: "hakv", Content: bin, Mode: 0o755}},
	}, nil
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
func (HAKV) Container(cfg NodeConfig) (ContainerSpec, error) {
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
	opts, err := flags(HAKV{}.Options(), cfg.Options)
	if err != nil {
		return ContainerSpec{}, fmt.Errorf("describe hakv node: %w", err)
	}
	args = append(args, opts...)
	return ContainerSpec{Entrypoint: []string{"/hakv"}, Cmd: args}, nil
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
func (h HAKV) Claims(ctx context.Context, nodes []*Node) ([]Claim, error) {
	claims := make([]Claim, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { claims[i] = h.claim(ctx, n) })
	}
	wg.Wait()
	return claims, nil
}

func (h HAKV) claim(ctx context.Context, n *Node) Claim {
	c := Claim{Node: n.name}
	ctx, cancel := context.WithTimeout(ctx, h.Health().Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.ClientAddr()+"/status", nil)
	if err != nil {
		c.Err = fmt.Errorf("ask %s for status: %w", n.name, err)
		return c
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		c.Err = fmt.Errorf("ask %s for status: %w", n.name, err)
		return c
	}
	defer resp.Body.Close()
	var st hakvStatus
	if resp.StatusCode != http.StatusOK {
		c.Err = fmt.Errorf("ask %s for status: status %d", n.name, resp.StatusCode)
	} else if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		c.Err = fmt.Errorf("decode status of %s: %w", n.name, err)
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
func (h HAKV) Primary(ctx context.Context, nodes []*Node) (string, error) {
	claims, err := h.Claims(ctx, nodes)
	if err != nil {
		return "", err
	}
	return pickPrimary(claims)
}

// pickPrimary applies Primary's rule to a set of claims.
func pickPrimary(claims []Claim) (string, error) {
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
		return "", fmt.Errorf("%w (%d of %d nodes unreachable): %w", ErrNoPrimary, len(errs), len(claims), errors.Join(errs...))
	}
	return "", ErrNoPrimary
}
