package mariadbkeepalived

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/workload"
)

// nodeConfig is node name's configuration in a two-node cluster on a
// planned network with one reserved address.
func nodeConfig(name string, opts map[string]string) cluster.NodeConfig {
	peers := []cluster.Peer{
		{Name: "n1", Host: "n1", Port: clientPort, IP: netip.MustParseAddr("10.199.3.10")},
		{Name: "n2", Host: "n2", Port: clientPort, IP: netip.MustParseAddr("10.199.3.11")},
	}
	return cluster.NodeConfig{Name: name, Role: cluster.DataRole, Peers: peers, Members: peers, Options: opts,
		DataDir: cluster.DataDir, Reserved: []netip.Addr{netip.MustParseAddr("10.199.3.200")}}
}

// file returns the content of the file at path in cs.
func file(t *testing.T, cs cluster.ContainerSpec, path string) string {
	t.Helper()
	for _, f := range cs.Files {
		if f.Path == path {
			return string(f.Content)
		}
	}
	t.Fatalf("no file %s", path)
	return ""
}

// TestKeepalivedConfig checks the VRRP instance: unicast from the node's
// own fixed address to the peer's, the reserved address as the virtual IP,
// nopreempt, priorities that make n1 the first master, and the notify
// script for every state.
func TestKeepalivedConfig(t *testing.T) {
	s := System{}
	cs, err := s.Container(nodeConfig("n2", map[string]string{"advert_int": "2", "garp_master_refresh": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	conf := file(t, cs, keepalivedCnf)
	for _, want := range []string{"unicast_src_ip 10.199.3.11", "unicast_peer {\n        10.199.3.10\n    }",
		"10.199.3.200/24 dev eth0", "nopreempt", "state BACKUP", "priority 140", "advert_int 2",
		"garp_master_refresh 1", `notify_master "/etc/hadrill/notify.sh MASTER"`, `notify_backup "/etc/hadrill/notify.sh BACKUP"`} {
		if !strings.Contains(conf, want) {
			t.Errorf("keepalived.conf lacks %q:\n%s", want, conf)
		}
	}
	n1, _ := s.Container(nodeConfig("n1", nil))
	if c := file(t, n1, keepalivedCnf); !strings.Contains(c, "priority 150") || strings.Contains(c, "garp_master_refresh") {
		t.Errorf("n1: want priority 150 and keepalived's default gratuitous ARPs:\n%s", c)
	}
	if cs.Sysctls["net.ipv4.ip_forward"] != "0" || len(cs.CapAdd) != 1 || cs.CapAdd[0] != "NET_ADMIN" {
		t.Errorf("container: sysctls %v, caps %v; want ip_forward 0 and NET_ADMIN", cs.Sysctls, cs.CapAdd)
	}
}

// TestReplicationConfig checks how the options reach MariaDB: server_id by
// position, semi-sync's replica side in my.cnf and its primary side set by
// the promotion, the timeout, and MASTER_DELAY in the replica's CHANGE
// MASTER.
func TestReplicationConfig(t *testing.T) {
	s := System{}
	cases := []struct {
		opts           map[string]string
		slave, promote string
		timeout, delay string
	}{
		{nil, "rpl_semi_sync_slave_enabled = OFF", "rpl_semi_sync_master_enabled = 0; SET GLOBAL read_only = 0", "rpl_semi_sync_master_timeout = 10000", "MASTER_DELAY=0"},
		{map[string]string{"replication": "semisync", "rpl_semi_sync_master_timeout": "2000", "master_delay": "3"},
			"rpl_semi_sync_slave_enabled = ON", "rpl_semi_sync_master_enabled = 1; SET GLOBAL read_only = 0", "rpl_semi_sync_master_timeout = 2000", "MASTER_DELAY=3"},
	}
	for _, c := range cases {
		cs, err := s.Container(nodeConfig("n2", c.opts))
		if err != nil {
			t.Fatal(err)
		}
		cnf, notify := file(t, cs, myCnf), file(t, cs, notifyScript)
		for _, want := range []string{"server_id = 2", "read_only = ON", "log_slave_updates = ON", "rpl_semi_sync_master_enabled = OFF", c.slave, c.timeout} {
			if !strings.Contains(cnf, want) {
				t.Errorf("%v: my.cnf lacks %q", c.opts, want)
			}
		}
		for _, want := range []string{"STOP SLAVE; RESET SLAVE ALL", c.promote, "MASTER_HOST='n1'", "MASTER_USE_GTID=current_pos", c.delay} {
			if !strings.Contains(notify, want) {
				t.Errorf("%v: notify.sh lacks %q", c.opts, want)
			}
		}
	}
}

// TestContainerRefusals checks that the system refuses what it cannot run.
func TestContainerRefusals(t *testing.T) {
	s := System{}
	three := nodeConfig("n1", nil)
	three.Peers = append(three.Peers, cluster.Peer{Name: "n3", IP: netip.MustParseAddr("10.199.3.12")})
	noVIP := nodeConfig("n1", nil)
	noVIP.Reserved = nil
	for name, cfg := range map[string]cluster.NodeConfig{
		"three nodes":    three,
		"no virtual IP":  noVIP,
		"unknown option": nodeConfig("n1", map[string]string{"bogus": "1"}),
	} {
		if _, err := s.Container(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestClassify checks the error table of the client.
func TestClassify(t *testing.T) {
	readOnly := &mysql.MySQLError{Number: errReadOnly, Message: "The MariaDB server is running with the --read-only option"}
	deadlock := &mysql.MySQLError{Number: 1213, Message: "Deadlock found"}
	cases := []struct {
		err        error
		notPrimary bool
		definite   bool
	}{
		{readOnly, true, true},
		{deadlock, false, true},
		{mysql.ErrInvalidConn, false, false},
		{context.DeadlineExceeded, false, false},
	}
	for _, c := range cases {
		err := classify("n1", c.err)
		var np *workload.NotPrimaryError
		if errors.As(err, &np) != c.notPrimary || errors.Is(err, workload.ErrNotApplied) != c.definite {
			t.Errorf("classify(%v) = %v: want not-primary %v, definite %v", c.err, err, c.notPrimary, c.definite)
		}
	}
}

// TestServedNamesTheHolder checks that an operation addressed to a node
// that does not hold the virtual IP is refused with the holder as hint, and
// a write to a read-only holder is refused without one.
func TestServedNamesTheHolder(t *testing.T) {
	cl := &client{names: []string{"n1", "n2"}}
	var np *workload.NotPrimaryError
	if err := cl.served("n1", "n2", false, true); !errors.As(err, &np) || np.Primary != "n2" {
		t.Errorf("n1 asked, n2 answers: %v, want not primary with hint n2", err)
	}
	if err := cl.served("n1", "n1", true, true); !errors.As(err, &np) || np.Primary != "" {
		t.Errorf("write to read-only n1: %v, want not primary without hint", err)
	}
	if err := cl.served("n1", "n1", true, false); err != nil {
		t.Errorf("write to writable n1: %v", err)
	}
	if err := cl.served("n1", "stranger", false, false); !errors.As(err, &np) || np.Primary != "" {
		t.Errorf("unknown server: %v, want not primary without hint", err)
	}
}

// TestLikePrefix checks that LIKE's wildcards in a prefix match themselves.
func TestLikePrefix(t *testing.T) {
	for in, want := range map[string]string{"ledger-": "ledger-%", "a_b%": `a\_b\%%`} {
		if got := likePrefix(in); got != want {
			t.Errorf("likePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
