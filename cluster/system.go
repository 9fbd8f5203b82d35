package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/hadrill/hadrill/cluster/image"
)

// DataDir is where every node keeps its data inside its container. It is one
// fixed path so that the disk-fault layer of the node agent has one place to
// mount over, whatever the system.
const DataDir = "/data"

// System describes one kind of cluster (hakv, Redis with Sentinel, etcd,
// PostgreSQL, or a user's YAML) to the Docker backend. It is deliberately
// small: the backend needs to know how to get the image, how to run one node,
// where clients connect and how to tell that a node is up. Everything else a
// system may offer is an optional capability, found by type assertion as in
// Jepsen and etcd's robustness tests: PrimaryFinder, ClaimReporter, Steadier
// and Roler.
//
// A System is a value that describes, not a running thing: the same System can
// start any number of clusters, one after the other or at once.
type System interface {
	// Name is the system's short name ("hakv"). It labels the containers
	// (hadrill.system) and names the system in reports.
	Name() string
	// Image says how to build the image when the scenario gives none. It takes
	// a context because producing the build context may compile a binary.
	Image(ctx context.Context) (image.Spec, error)
	// Container gives the container for one node. It must reject options it
	// does not know, so that a typo in a scenario fails before anything runs.
	Container(cfg NodeConfig) (ContainerSpec, error)
	// ClientPort is the TCP port clients use inside the container. The backend
	// publishes it on 127.0.0.1 of the host.
	ClientPort() int
	// Health is how the backend decides that a node has started.
	Health() HealthCheck
}

// DataRole is the role of the nodes that hold the data and serve clients
// (n1..nN). Fault targets select them unless a scenario names a role.
const DataRole = "data"

// Role is a kind of auxiliary node a system runs besides its data nodes: a
// Sentinel, pg_auto_failover's monitor, a proxy. Its nodes are named Prefix1,
// Prefix2, ... and are described by the same System.Container, with
// NodeConfig.Role set.
type Role struct {
	// Name is the role's name ("sentinel"), as scenarios address it.
	Name string
	// Prefix starts the names of the role's nodes ("s" gives s1, s2, ...).
	// It must not be "n", which the data nodes use.
	Prefix string
	// Count is how many nodes of the role to run.
	Count int
	// Port is the TCP port the role's nodes serve on; it is published on
	// 127.0.0.1 like the data nodes' client port.
	Port int
	// Health is how the backend decides that a node of the role has started.
	Health HealthCheck
}

// Roler is the optional capability of a System that runs auxiliary nodes.
// The options are the scenario's, so that an option can move a process to
// nodes of its own (Sentinels beside Redis or on their own nodes).
type Roler interface {
	Roles(opts map[string]string) []Role
}

// PrimaryFinder is implemented by systems that have a primary (or leader) at
// a time, as the system itself says: hakv's claimant, etcd's Raft leader,
// the node Sentinels agree on. Systems without one simply do not implement
// it, and Cluster.Primary then reports ErrNoFixedPrimary, so fault targets
// such as "primary" can be rejected instead of guessed.
type PrimaryFinder interface {
	// Primary names the node that is primary now, or returns an error wrapping
	// ErrNoPrimary while none is (an election is in progress). nodes are all
	// the cluster's nodes, of every role (data nodes first), so that a system
	// whose primary is named by auxiliary nodes (Sentinels) can ask them.
	Primary(ctx context.Context, nodes []*Node) (string, error)
}

// Steadier is implemented by systems whose primary takes writes before the
// replication the scenario configured is in force. pg_auto_failover's
// primary does, in wait_primary: synchronous replication stays off while its
// standby catches up, and a failover then loses writes it acknowledged. A
// fault injected in that window drills a cluster the scenario did not
// describe, so the runner waits for Steady before it starts the load.
type Steadier interface {
	// Steady returns nil once the cluster replicates as configured, or an
	// error saying what it still waits for. nodes are as for Primary.
	Steady(ctx context.Context, nodes []*Node) error
}

// ClaimReporter is implemented by systems whose nodes can be asked what role
// they think they hold. Unlike Primary, which picks one answer, Claims shows
// every node's view, so a split brain (two nodes claiming primary) is visible.
type ClaimReporter interface {
	Claims(ctx context.Context, nodes []*Node) ([]Claim, error)
}

// Claim is one node's own view of its role, as it reported it.
type Claim struct {
	// Node is the node asked.
	Node string `json:"node"`
	// Role is the role it claims ("primary", "standby", "candidate"), or ""
	// when it could not be asked.
	Role string `json:"role,omitempty"`
	// Epoch is the election epoch (term) the node is in.
	Epoch uint64 `json:"epoch"`
	// Primary is the node it believes is primary, "" when it knows none.
	Primary string `json:"primary,omitempty"`
	// Err is why the node could not be asked (down, paused, partitioned).
	Err error `json:"-"`
}

var (
	// ErrNoPrimary means the system has a primary in principle but no node
	// holds the role right now, as during an election. Systems return it from
	// Primary, and fault targets that depend on the primary (faults.Resolve)
	// wrap it when none is known. Callers usually retry: see
	// Cluster.WaitPrimary, and the nemesis, which waits and resolves again.
	ErrNoPrimary = errors.New("no node is primary")
	// ErrNoFixedPrimary means the system has no single primary at all (a
	// leaderless store), so "primary" and "standbys" are not meaningful
	// fault targets.
	ErrNoFixedPrimary = errors.New("system has no fixed primary")
	// ErrUnsupported means the system lacks an optional capability.
	ErrUnsupported = errors.New("not supported by this system")
)

// NodeConfig is what a System needs to know to describe one node.
type NodeConfig struct {
	// Name is the node's name, n1..nN (or a role's prefix and number). It is
	// also its host name and its alias on the run's network, so peers reach it
	// as Name:port.
	Name string
	// Role is DataRole or the name of one of the system's Roles.
	Role string
	// Peers lists every data node of the cluster, this one included when it
	// is a data node, in order.
	Peers []Peer
	// Members lists every node of every role, data nodes first.
	Members []Peer
	// Options are the scenario's system options (cluster.options), verbatim.
	Options map[string]string
	// DataDir is the data folder inside the container (always DataDir).
	DataDir string
	// Reserved are the addresses of the run network that the system
	// manages itself (a virtual IP), when it is an AddressReserver.
	Reserved []netip.Addr
}

// Peer is one member of the cluster as the other members reach it: by its
// network alias on the run's own Docker network. Port is the system's client
// port; a system whose members talk on another port (Sentinel, Raft peer
// ports) pairs Host with its own.
type Peer struct {
	Name string
	Role string
	Host string
	Port int
	// IP is the node's fixed address on the run network, set only when the
	// system is an AddressReserver (the network then has an address plan);
	// otherwise Docker assigns one and the zero Addr is here.
	IP netip.Addr
}

// Addr is the peer's host:port on the run network.
func (p Peer) Addr() string { return net.JoinHostPort(p.Host, fmt.Sprint(p.Port)) }

// ContainerSpec is one node's container, as a System (or a Spec.Customize
// hook) describes it. The fields beyond the command exist for the node agent,
// which wraps the entrypoint, needs NET_ADMIN for nftables, and SYS_ADMIN plus
// /dev/fuse for disk faults.
type ContainerSpec struct {
	// Entrypoint replaces the image's entrypoint when set.
	Entrypoint []string
	// Cmd is the command (or the entrypoint's arguments).
	Cmd []string
	// Env is the environment, added to the image's.
	Env map[string]string
	// Ports are container TCP ports to publish on 127.0.0.1 besides the client
	// port (the agent's control port, a metrics port). See Node.Addr.
	Ports []int
	// Files are copied into the container after it is created and before it
	// starts, so they work with images that have no shell (FROM scratch).
	Files []image.File
	// CapAdd adds Linux capabilities ("NET_ADMIN", "SYS_ADMIN").
	CapAdd []string
	// Devices are host devices to expose at the same path ("/dev/fuse").
	Devices []string
	// User, when set, is the user the system's processes run as
	// ("postgres"): PostgreSQL refuses to run as root. The node agent, which
	// needs root for nftables and FUSE, starts its children as this user.
	User string
	// Sidecars are more commands to run in the node beside the main one,
	// supervised the same way (a Sentinel living with its Redis, as in
	// Jepsen's set-up), so that a fault on the node hits them too.
	Sidecars [][]string
	// Sysctls are namespaced kernel settings for the container
	// ("net.ipv4.ip_forward": "0" for a node that may hold a virtual IP).
	Sysctls map[string]string
}

// HealthCheck says how to tell that a node is up: Probe when set (a system's
// own protocol: a Redis PING, an etcd /health), else an HTTP GET of Path on
// the client port that answers 200, else a TCP connect (weak with Docker's
// userland proxy, which accepts before the node listens; prefer the others).
type HealthCheck struct {
	// Probe, when set, checks the node at addr (127.0.0.1:port) in the
	// system's own protocol and returns nil when it serves.
	Probe func(ctx context.Context, addr string) error
	// Path is the HTTP path to GET ("/healthz").
	Path string
	// Timeout bounds one probe; 0 means one second. A paused node fails the
	// probe by timing out, so keep it short.
	Timeout time.Duration
}

// probe runs one health check against addr (host:port).
func (h HealthCheck) probe(ctx context.Context, addr string) error {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if h.Probe != nil {
		return h.Probe(ctx, addr)
	}
	if h.Path == "" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("connect %s: %w", addr, err)
		}
		return conn.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+h.Path, nil)
	if err != nil {
		return fmt.Errorf("make health request: %w", err)
	}
	resp, err := ProbeClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", h.Path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %d", h.Path, resp.StatusCode)
	}
	return nil
}

// Describe says what the check does, for logs.
func (h HealthCheck) Describe(addr string) string {
	switch {
	case h.Probe != nil:
		return "system probe of " + addr
	case h.Path == "":
		return "TCP connect to " + addr
	}
	return "HTTP 200 from GET " + h.Path + " on " + addr
}

// ProbeClient is the HTTP client for health and status probes, of the
// backend and of the systems alike. It keeps no idle connections: a probe
// must open a fresh connection each time, or a connection kept alive to a
// node's old process would hide a restart. It never uses a proxy.
var ProbeClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
