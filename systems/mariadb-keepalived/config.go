package mariadbkeepalived

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/cluster/image"
)

// Paths inside a node. The per-node files are placed by the backend
// (ContainerSpec.Files), so a change of configuration never rebuilds the
// image.
const (
	confDir       = "/etc/hadrill"
	startScript   = confDir + "/start.sh"
	notifyScript  = confDir + "/notify.sh"
	myCnf         = confDir + "/my.cnf"
	initSQL       = confDir + "/init.sql"
	keepalivedCnf = confDir + "/keepalived.conf"
	// dataDir is the server's data directory, binary log included: all of
	// the node's data, below the data folder the disk faults reach.
	dataDir = cluster.DataDir + "/mysql"
)

// Accounts. The workload's user gets data privileges only, so that
// read_only binds it (SUPER-like privileges would bypass read_only).
const (
	database     = "hadrill"
	clientUser   = "hadrill"
	clientPass   = "hadrill"
	replUser     = "repl"
	replPass     = "repl"
	vrrpRouterID = 51
)

// node is what the rendered files of one node need.
type node struct {
	name     string
	serverID int
	priority int
	self     netip.Addr
	peers    []cluster.Peer // the other data nodes
	vip      netip.Addr
	set      settings
}

// settings are the scenario's options, parsed.
type settings struct {
	semisync       bool
	semisyncTimout int // ms
	replicaDelay   int // s, MASTER_DELAY
	advertInt      int // s
	garpRefresh    int // s, 0 = keepalived's default (none)
}

// newNode places one data node among its peers: server_id and VRRP priority
// follow the node's position, so n1 wins the first election.
func newNode(cfg cluster.NodeConfig, set settings) (node, error) {
	if len(cfg.Reserved) != 1 {
		return node{}, fmt.Errorf("describe node %s: want one reserved address for the virtual IP, got %d", cfg.Name, len(cfg.Reserved))
	}
	n := node{name: cfg.Name, vip: cfg.Reserved[0], set: set}
	for i, p := range cfg.Peers {
		if p.Name == cfg.Name {
			n.serverID, n.priority, n.self = i+1, 150-10*i, p.IP
			continue
		}
		n.peers = append(n.peers, p)
	}
	if n.serverID == 0 || !n.self.IsValid() {
		return node{}, fmt.Errorf("describe node %s: not among the data nodes, or no fixed address", cfg.Name)
	}
	return n, nil
}

// files are the node's configuration and scripts.
func (n node) files() []image.File {
	return []image.File{
		{Path: startScript, Content: []byte(n.startScript()), Mode: 0o755},
		{Path: notifyScript, Content: []byte(n.notifyScript()), Mode: 0o755},
		{Path: myCnf, Content: []byte(n.myCnf())},
		{Path: initSQL, Content: []byte(n.initSQL())},
		{Path: keepalivedCnf, Content: []byte(n.keepalivedConf())},
	}
}

// keepalivedCommand runs keepalived in the foreground, logging to the
// node's output. It is started by the start script today; it is the command
// to move to ContainerSpec.Sidecars once the node agent supervises sidecars.
func keepalivedCommand() []string {
	return []string{"keepalived", "--dont-fork", "--log-console", "--log-detail", "--use-file=" + keepalivedCnf}
}

// startScript initialises the data folder on the first start, removes
// keepalived's pidfiles (they survive a container restart, and keepalived
// then refuses to start), starts keepalived beside the server, and becomes
// mariadbd. Killing the node's process group stops both, like a crashed
// machine.
func (n node) startScript() string {
	return `#!/bin/sh
set -e
D=` + dataDir + `
if [ ! -d "$D/mysql" ]; then
	mkdir -p "$D"
	chown mysql:mysql "$D"
	mariadb-install-db --user=mysql --datadir="$D" --skip-test-db --auth-root-authentication-method=socket >/dev/null
fi
mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld
rm -f /run/keepalived*.pid /run/vrrp*.pid /run/hadrill-notify.lock
` + strings.Join(keepalivedCommand(), " ") + ` &
exec mariadbd --defaults-file=` + myCnf + `
`
}

// myCnf is the server's whole configuration: GTID binary logging with the
// replica's updates logged too (so either node can be the primary), every
// commit durable, and read_only until keepalived's notify script promotes
// the node. Semi-synchronous replication waits AFTER_SYNC (lossless): a
// commit is visible only once the replica has the event. The primary side
// of semi-sync is switched on by the promotion only: a replica with it on
// makes its own applier wait for acknowledgements nobody sends.
func (n node) myCnf() string {
	on := map[bool]string{true: "ON", false: "OFF"}
	return fmt.Sprintf(`[mariadbd]
user = mysql
datadir = %[1]s
socket = /run/mysqld/mysqld.sock
bind_address = 0.0.0.0
port = %[2]d
server_id = %[3]d
log_bin = %[1]s/binlog
log_slave_updates = ON
binlog_format = ROW
sync_binlog = 1
innodb_flush_log_at_trx_commit = 1
read_only = ON
skip_name_resolve = ON
performance_schema = OFF
innodb_buffer_pool_size = 64M
max_connections = 200
init_file = %[4]s
rpl_semi_sync_master_enabled = OFF
rpl_semi_sync_slave_enabled = %[5]s
rpl_semi_sync_master_timeout = %[6]d
rpl_semi_sync_master_wait_point = AFTER_SYNC
`, dataDir, clientPort, n.serverID, initSQL, on[n.set.semisync], n.set.semisyncTimout)
}

// initSQL runs at every start, outside the binary log: accounts and the
// table exist on every node without a transaction of the node's own, so
// that GTID replication starts from an empty position on both.
func (n node) initSQL() string {
	return fmt.Sprintf(`SET SESSION sql_log_bin = 0;
CREATE DATABASE IF NOT EXISTS %[1]s;
CREATE TABLE IF NOT EXISTS %[1]s.kv (k VARCHAR(191) PRIMARY KEY, v TEXT NOT NULL) ENGINE=InnoDB;
CREATE USER IF NOT EXISTS '%[2]s'@'%%' IDENTIFIED BY '%[3]s';
GRANT SELECT, INSERT, UPDATE, DELETE ON %[1]s.* TO '%[2]s'@'%%';
CREATE USER IF NOT EXISTS '%[4]s'@'%%' IDENTIFIED BY '%[5]s';
GRANT REPLICATION SLAVE ON *.* TO '%[4]s'@'%%';
`, database, clientUser, clientPass, replUser, replPass)
}

// keepalivedConf is one VRRP instance with unicast peers. Both nodes start
// as BACKUP with nopreempt, so a node that comes back does not take the
// address back from a working primary; the first election goes to the
// highest priority (n1).
func (n node) keepalivedConf() string {
	var peers strings.Builder
	for _, p := range n.peers {
		fmt.Fprintf(&peers, "        %s\n", p.IP)
	}
	garp := ""
	if n.set.garpRefresh > 0 {
		garp = fmt.Sprintf("    garp_master_refresh %d\n", n.set.garpRefresh)
	}
	return fmt.Sprintf(`global_defs {
    router_id %[1]s
    script_user root
    enable_script_security
}
vrrp_instance hadrill {
    state BACKUP
    nopreempt
    interface eth0
    virtual_router_id %[2]d
    priority %[3]d
    advert_int %[4]d
    unicast_src_ip %[5]s
    unicast_peer {
%[6]s    }
    virtual_ipaddress {
        %[7]s/24 dev eth0
    }
%[8]s    notify_master "%[9]s MASTER"
    notify_backup "%[9]s BACKUP"
    notify_fault "%[9]s FAULT"
}
`, n.name, vrrpRouterID, n.priority, n.set.advertInt, n.self, peers.String(), n.vip, garp, notifyScript)
}

// notifyScript is keepalived's notify script. MASTER promotes the node the
// classic way: replication stopped and forgotten, read_only off; it does
// not wait for the relay log to be applied, which is where a lagging
// replica loses writes. BACKUP and FAULT make the node read-only, and
// BACKUP replicates from the peer by GTID. Semi-sync's primary side follows
// the role. Runs are serialised: keepalived
// starts notify scripts without waiting for the previous one.
func (n node) notifyScript() string {
	peer := ""
	if len(n.peers) > 0 {
		peer = n.peers[0].Name
	}
	semisync := "0"
	if n.set.semisync {
		semisync = "1"
	}
	return fmt.Sprintf(`#!/bin/sh
exec 9>/run/hadrill-notify.lock
flock 9
log() { echo "hadrill-notify: $*" >/proc/1/fd/2; }
sql() { mariadb --protocol=socket -uroot -N -e "$1"; }
i=0
until mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1; do
	i=$((i+1)); [ $i -gt 600 ] && { log "$1: mariadb not up"; exit 1; }
	sleep 0.1
done
case "$1" in
MASTER)
	sql "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL rpl_semi_sync_master_enabled = %[6]s; SET GLOBAL read_only = 0" && log "MASTER: promoted (read_only=0)" ;;
BACKUP)
	sql "SET GLOBAL read_only = 1; SET GLOBAL rpl_semi_sync_master_enabled = 0"
	if [ -z "$(sql 'SHOW SLAVE STATUS')" ]; then
		sql "CHANGE MASTER TO MASTER_HOST='%[1]s', MASTER_PORT=%[2]d, MASTER_USER='%[3]s', MASTER_PASSWORD='%[4]s', MASTER_USE_GTID=current_pos, MASTER_CONNECT_RETRY=1, MASTER_DELAY=%[5]d; START SLAVE"
	fi
	log "BACKUP: read_only=1, replicating from %[1]s" ;;
*)
	sql "SET GLOBAL read_only = 1; SET GLOBAL rpl_semi_sync_master_enabled = 0" && log "$1: read_only=1" ;;
esac
`, peer, clientPort, replUser, replPass, n.set.replicaDelay, semisync)
}
