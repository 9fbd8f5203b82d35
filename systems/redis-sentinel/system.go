// Package redissentinel drills Redis 7.0 with Sentinel, from Debian's
// redis-server and redis-sentinel packages: one primary and two (or more)
// replicas with Redis's asynchronous replication, watched by three Sentinels
// with quorum 2. By default each Sentinel runs inside a Redis node, as a
// sidecar the node agent supervises (Jepsen's 2013 set-up), so a fault on
// the node hits its Sentinel too; `sentinels: separate` puts them on nodes
// of their own (s1..s3).
//
// What to expect (Jepsen, "Call me maybe: Redis", 2013, and Redis's own
// documentation): a partition that isolates the primary with its Sentinel
// lets the majority promote a replica while the old primary keeps
// acknowledging writes; when the partition heals, the old primary becomes a
// replica of the new one and those writes vanish. min_replicas_to_write
// narrows the window to min_replicas_max_lag seconds but does not close it.
package redissentinel

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/systems"
)

// System is Redis with Sentinel as a system under test.
type System struct{}

// Redis's own ports and the name Sentinel monitors the primary by.
const (
	redisPort    = 6379
	sentinelPort = 26379
	masterName   = "hadrill"
	// quorum is how many Sentinels must agree that the primary is down.
	quorum = 2
	// sentinelCount is how many Sentinels run, beside the nodes or apart.
	sentinelCount = 3
)

// Debian bookworm's packages (7.0.15). redis-sentinel and redis-tools must
// move with redis-server, which depends on the exact same redis-tools.
const (
	debRedisServer   = "redis-server=5:7.0.15-1~deb12u10"
	debRedisSentinel = "redis-sentinel=5:7.0.15-1~deb12u10"
	debRedisTools    = "redis-tools=5:7.0.15-1~deb12u10"
)

// Config paths. Both files are rewritten by the processes themselves
// (Sentinel records what it learns; Redis rewrites its replicaof when
// Sentinel reconfigures it), so they live in /etc/redis, which root may
// write, and not in the data folder, where disk faults would reach them.
const (
	redisConf    = "/etc/redis/redis.conf"
	sentinelConf = "/etc/redis/sentinel.conf"
)

// StaticBinary says why clock faults cannot reach Redis: it is dynamically
// linked, but it does not start under libfaketime's preload.
func (System) StaticBinary() string {
	return "redis-server and redis-sentinel do not start under libfaketime 0.9.10's preload " +
		"(\"unexpected recursive calls to clock_gettime() without proper initialization\": Debian's Redis links jemalloc, " +
		"which reads the clock while libfaketime initialises)"
}

// Name returns "redis-sentinel".
func (System) Name() string { return "redis-sentinel" }

// Doc describes the system for `hadrill list`.
func (System) Doc() string {
	return "Redis 7.0.15 with Sentinel from Debian: one primary, asynchronous replicas, three Sentinels (quorum 2) beside the nodes"
}

// ClientDoc describes the client.
func (System) ClientDoc() string {
	return "go-redis v9, one connection pool per node: primary from the Sentinels (SENTINEL get-master-addr-by-name), GET/SET, CAS as a Lua script, SCAN+MGET on the primary for the final read"
}

// Options are Redis's and Sentinel's settings under their own names, with
// Redis's defaults, plus where the Sentinels run.
func (System) Options() []systems.Option {
	return []systems.Option{
		{Name: "down_after_milliseconds", Kind: systems.OptionInt, Default: "30000", Min: 100,
			Doc: "milliseconds without a valid reply before a Sentinel thinks the primary is down (sentinel down-after-milliseconds)"},
		{Name: "failover_timeout", Kind: systems.OptionInt, Default: "180000", Min: 1000,
			Doc: "milliseconds a Sentinel waits before it retries a failover of the same primary (sentinel failover-timeout)"},
		{Name: "parallel_syncs", Kind: systems.OptionInt, Default: "1", Min: 1,
			Doc: "replicas reconfigured at once to follow a new primary (sentinel parallel-syncs)"},
		{Name: "min_replicas_to_write", Kind: systems.OptionInt, Default: "0", Min: 0,
			Doc: "the primary refuses writes unless this many replicas are connected and lag at most min_replicas_max_lag (min-replicas-to-write; 0: off)"},
		{Name: "min_replicas_max_lag", Kind: systems.OptionInt, Default: "10", Min: 1,
			Doc: "seconds since a replica's last acknowledgement for it to count as good (min-replicas-max-lag)"},
		{Name: "appendfsync", Kind: systems.OptionEnum, Values: []string{"everysec", "always", "no"}, Default: "everysec",
			Doc: "when the append-only file is fsynced (appendfsync; the append-only file is on)"},
		{Name: "sentinels", Kind: systems.OptionEnum, Values: []string{"colocated", "separate"}, Default: "colocated",
			Doc: "colocated: a Sentinel in each Redis node, cut off with it (Jepsen's set-up); separate: Sentinels on nodes s1..s3 of their own"},
	}
}

// CheckOptions asks for a Redis node per Sentinel when they are colocated is
// done by Roles; the rule here is Sentinel's: a failover timeout shorter
// than the failure detection makes every failover look timed out.
func (s System) CheckOptions(opts map[string]string) (string, string) {
	down, _ := strconv.Atoi(systems.Value(s.Options(), opts, "down_after_milliseconds"))
	fo, _ := strconv.Atoi(systems.Value(s.Options(), opts, "failover_timeout"))
	if fo < down {
		return "failover_timeout", fmt.Sprintf("must be at least down_after_milliseconds (%d ms)", down)
	}
	return "", ""
}

// Nodes: colocated Sentinels run one in each Redis node, so there must be
// as many nodes as Sentinels; separate Sentinels need only one Redis node.
func (System) Nodes(opts map[string]string) systems.NodeBounds {
	if separate(opts) {
		return systems.NodeBounds{Min: 1, Why: "a primary alone, with the Sentinels on nodes of their own"}
	}
	return systems.NodeBounds{Min: sentinelCount,
		Why: fmt.Sprintf("sentinels: colocated runs one of the %d Sentinels in each node", sentinelCount)}
}

// ClientPort is Redis's port.
func (System) ClientPort() int { return redisPort }

// Health is a PING in Redis's protocol: a node loading its data answers
// LOADING and is not ready.
func (System) Health() cluster.HealthCheck {
	return cluster.HealthCheck{Probe: ready, Timeout: time.Second}
}

// separate reports whether the Sentinels run on nodes of their own.
func separate(opts map[string]string) bool { return opts["sentinels"] == "separate" }

// Roles puts three Sentinels on nodes s1..s3 when they are separate.
func (System) Roles(opts map[string]string) []cluster.Role {
	if !separate(opts) {
		return nil
	}
	return []cluster.Role{{Name: "sentinel", Prefix: "s", Count: sentinelCount, Port: sentinelPort,
		Health: cluster.HealthCheck{Probe: ping, Timeout: time.Second}}}
}

// Image is Debian's redis-server and redis-sentinel on the shared base.
func (System) Image(ctx context.Context) (image.Spec, error) {
	return image.DebianRecipe{Repo: "hadrill/redis-sentinel",
		Packages: []string{debRedisServer, debRedisSentinel, debRedisTools},
		Run:      []string{"mkdir -p " + cluster.DataDir}}.Spec(ctx)
}

// Container runs one Redis node (with its Sentinel as a sidecar when they
// are colocated) or one Sentinel node. n1 starts as the primary.
func (s System) Container(cfg cluster.NodeConfig) (cluster.ContainerSpec, error) {
	opts, err := s.values(cfg.Options)
	if err != nil {
		return cluster.ContainerSpec{}, fmt.Errorf("describe redis node: %w", err)
	}
	if len(cfg.Peers) == 0 {
		return cluster.ContainerSpec{}, fmt.Errorf("describe redis node %s: no data nodes", cfg.Name)
	}
	primary := cfg.Peers[0].Host
	sentinel := image.File{Path: sentinelConf, Content: []byte(renderSentinel(cfg.Name, primary, opts)), Mode: 0o644}
	sentinelCmd := []string{"/usr/bin/redis-sentinel", sentinelConf}
	if cfg.Role == "sentinel" {
		return cluster.ContainerSpec{Entrypoint: sentinelCmd, Files: []image.File{sentinel}}, nil
	}
	if !separate(cfg.Options) && len(cfg.Peers) < sentinelCount {
		return cluster.ContainerSpec{}, fmt.Errorf("describe redis node %s: colocated Sentinels need %d nodes, got %d", cfg.Name, sentinelCount, len(cfg.Peers))
	}
	cs := cluster.ContainerSpec{
		Entrypoint: []string{"/usr/bin/redis-server", redisConf},
		Files:      []image.File{{Path: redisConf, Content: []byte(renderRedis(cfg.Name, primary, cfg.DataDir, opts)), Mode: 0o644}},
	}
	if !separate(cfg.Options) {
		cs.Files = append(cs.Files, sentinel)
		cs.Sidecars = [][]string{sentinelCmd}
		cs.Ports = []int{sentinelPort}
	}
	return cs, nil
}

// values fills in the defaults and refuses undeclared options.
func (s System) values(opts map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for k := range opts {
		if _, ok := systems.Find(s.Options(), k); !ok {
			return nil, fmt.Errorf("check option %q: unknown (known: %s)", k, strings.Join(systems.Names(s.Options()), ", "))
		}
	}
	for _, o := range s.Options() {
		out[o.Name] = systems.Value(s.Options(), opts, o.Name)
	}
	return out, nil
}

// renderRedis is one Redis node's configuration. Every node announces its
// name on the run network rather than its address, so that what Sentinel
// reports maps to a node even after a restarted container got a new one.
func renderRedis(name, primary, dataDir string, o map[string]string) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("bind 0.0.0.0")
	line("port %d", redisPort)
	line("protected-mode no")
	line("daemonize no")
	line("logfile \"\"")
	line("dir %s", dataDir)
	line("appendonly yes")
	line("appendfsync %s", o["appendfsync"])
	line("replica-announce-ip %s", name)
	line("min-replicas-to-write %s", o["min_replicas_to_write"])
	line("min-replicas-max-lag %s", o["min_replicas_max_lag"])
	if name != primary {
		line("replicaof %s %d", primary, redisPort)
	}
	return b.String()
}

// renderSentinel is one Sentinel's configuration. Sentinel rewrites the
// file as it learns peers and replicas. It resolves and announces names:
// the names are what it reports to clients and the report, and a name
// outlives a container restart's new address. (A stopped container's name
// stops resolving: Sentinel then logs "Failed to resolve hostname" and
// counts the node as down, which it is.)
func renderSentinel(name, primary string, o map[string]string) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("port %d", sentinelPort)
	line("daemonize no")
	line("logfile \"\"")
	line("dir /tmp")
	line("sentinel resolve-hostnames yes")
	line("sentinel announce-hostnames yes")
	line("sentinel announce-ip %s", name)
	line("sentinel monitor %s %s %d %d", masterName, primary, redisPort, quorum)
	line("sentinel down-after-milliseconds %s %s", masterName, o["down_after_milliseconds"])
	line("sentinel failover-timeout %s %s", masterName, o["failover_timeout"])
	line("sentinel parallel-syncs %s %s", masterName, o["parallel_syncs"])
	return b.String()
}
