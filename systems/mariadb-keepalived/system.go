// Package mariadbkeepalived drills the classic two-server hot standby:
// MariaDB 10.11 primary/replica replication by GTID (asynchronous, or
// semi-synchronous with a timeout), and keepalived 2.2.7 in each node moving
// a virtual IP by VRRP with unicast peers. keepalived's notify script
// promotes the replica when its node takes the address. Clients reach the
// database only through the virtual IP, as real clients do.
//
// What to expect, as MySQL's and MariaDB's documentation and years of
// incident reports say: asynchronous replication loses the writes the
// replica had not applied when the primary died; semi-synchronous
// replication loses none while the replica acknowledges within
// rpl_semi_sync_master_timeout, and falls back to asynchronous after it; a
// partition between the two VRRP peers makes both take the address (split
// brain), and writes land on both.
package mariadbkeepalived

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/systems"
)

// System is MariaDB with keepalived as a system under test.
type System struct{}

// clientPort is MariaDB's port.
const clientPort = 3306

// Pins of Debian bookworm's packages.
const (
	debMariaDBServer = "mariadb-server=1:10.11.19-0+deb12u1"
	debKeepalived    = "keepalived=1:2.2.7-1+b2"
)

// Option names, as MariaDB and keepalived call the settings.
const (
	optReplication = "replication"
	optTimeout     = "rpl_semi_sync_master_timeout"
	optDelay       = "master_delay"
	optAdvert      = "advert_int"
	optGarp        = "garp_master_refresh"
)

// Name returns "mariadb-keepalived".
func (System) Name() string { return "mariadb-keepalived" }

// Doc describes the system for `hadrill list`.
func (System) Doc() string {
	return "MariaDB 10.11 GTID primary/replica with keepalived 2.2.7 moving a virtual IP by VRRP; the notify script promotes the replica"
}

// ClientDoc describes the client.
func (System) ClientDoc() string {
	return "go-sql-driver/mysql to the virtual IP only; each operation first asks the connection's @@hostname, so the history names the node that held the address; CAS is UPDATE ... WHERE v = from"
}

// Options are MariaDB's and keepalived's own settings, with their defaults.
func (System) Options() []systems.Option {
	return []systems.Option{
		{Name: optReplication, Kind: systems.OptionEnum, Values: []string{"async", "semisync"}, Default: "async",
			Doc: "async (MariaDB's default), or semisync: rpl_semi_sync_slave_enabled on both nodes, rpl_semi_sync_master_enabled switched on by the promotion, waiting AFTER_SYNC"},
		{Name: optTimeout, Kind: systems.OptionInt, Default: "10000", Min: 1,
			Doc: "milliseconds a semi-synchronous primary waits for the replica's acknowledgement before it falls back to asynchronous (MariaDB's rpl_semi_sync_master_timeout)"},
		{Name: optDelay, Kind: systems.OptionInt, Default: "0", Min: 0,
			Doc: "seconds the replica holds events before applying them (CHANGE MASTER TO MASTER_DELAY): a lagging replica, whose unapplied relay log the promotion discards"},
		{Name: optAdvert, Kind: systems.OptionInt, Default: "1", Min: 1,
			Doc: "seconds between VRRP advertisements (keepalived's advert_int); a backup takes over after about three missed ones"},
		{Name: optGarp, Kind: systems.OptionInt, Default: "0", Min: 0,
			Doc: "seconds between gratuitous ARPs repeated by the holder of the address (keepalived's garp_master_refresh); 0 sends them only on taking it"},
	}
}

// parse reads the options, falling back to the declared defaults.
func (s System) parse(opts map[string]string) (settings, error) {
	num := func(name string) (int, error) {
		v, err := strconv.Atoi(systems.Value(s.Options(), opts, name))
		if err != nil {
			return 0, fmt.Errorf("parse option %s: %w", name, err)
		}
		return v, nil
	}
	set := settings{semisync: systems.Value(s.Options(), opts, optReplication) == "semisync"}
	var err error
	for _, f := range []struct {
		name string
		to   *int
	}{{optTimeout, &set.semisyncTimout}, {optDelay, &set.replicaDelay}, {optAdvert, &set.advertInt}, {optGarp, &set.garpRefresh}} {
		if *f.to, err = num(f.name); err != nil {
			return settings{}, err
		}
	}
	for k := range opts {
		if _, ok := systems.Find(s.Options(), k); !ok {
			return settings{}, fmt.Errorf("check option %q: unknown", k)
		}
	}
	return set, nil
}

// ReserveAddrs asks the backend for one address of the run network, the
// virtual IP, that Docker never gives to a container.
func (System) ReserveAddrs(map[string]string) int { return 1 }

// Nodes: keepalived's VRRP pair and MariaDB's replication are set up for
// exactly one primary and one replica.
func (System) Nodes(map[string]string) systems.NodeBounds {
	return systems.NodeBounds{Min: 2, Max: 2, Why: "a keepalived VRRP pair: one primary, one replica"}
}

// ClientPort is MariaDB's port.
func (System) ClientPort() int { return clientPort }

// Health is a MariaDB login and SELECT 1 on the node's own port: the server
// has run its init file and serves.
func (System) Health() cluster.HealthCheck {
	return cluster.HealthCheck{Probe: probeServes, Timeout: 2 * time.Second}
}

// Image is Debian's mariadb-server and keepalived on the shared base, with
// the data folder made in the image: the node agent mounts its disk-fault
// layer over the folder before the start script runs, so the folder must
// exist by then. The start script runs as root and mariadbd drops to the
// mysql user (my.cnf's user), so root owns the folder and mysql owns the
// server's data directory in it.
func (System) Image(ctx context.Context) (image.Spec, error) {
	return image.DebianRecipe{
		Repo:     "hadrill/mariadb-keepalived",
		Packages: []string{debMariaDBServer, debKeepalived},
		Run:      []string{"mkdir -p " + dataDir + " && chown mysql:mysql " + dataDir},
	}.Spec(ctx)
}

// Container runs one node: mariadbd and keepalived, started by the node's
// start script. VRRP needs NET_ADMIN to add the address; ip_forward is off
// so that a node that lost the address drops, rather than forwards, what a
// stale ARP entry still sends it.
func (s System) Container(cfg cluster.NodeConfig) (cluster.ContainerSpec, error) {
	if len(cfg.Peers) != 2 {
		return cluster.ContainerSpec{}, fmt.Errorf("describe node %s: mariadb-keepalived runs exactly 2 nodes, got %d", cfg.Name, len(cfg.Peers))
	}
	set, err := s.parse(cfg.Options)
	if err != nil {
		return cluster.ContainerSpec{}, fmt.Errorf("describe node %s: %w", cfg.Name, err)
	}
	n, err := newNode(cfg, set)
	if err != nil {
		return cluster.ContainerSpec{}, err
	}
	return cluster.ContainerSpec{
		Entrypoint: []string{startScript},
		Files:      n.files(),
		CapAdd:     []string{"NET_ADMIN"},
		Sysctls:    map[string]string{"net.ipv4.ip_forward": "0"},
	}, nil
}
