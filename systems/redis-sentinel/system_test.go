package redissentinel

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/workload"
)

func peers(n int) []cluster.Peer {
	var ps []cluster.Peer
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		ps = append(ps, cluster.Peer{Name: name, Role: cluster.DataRole, Host: name, Port: redisPort})
	}
	return ps
}

// TestContainerColocated: a Redis node runs redis-server with its Sentinel
// as a sidecar, publishes the Sentinel's port, and only n1 starts as the
// primary; Sentinel resolves and announces names.
func TestContainerColocated(t *testing.T) {
	opts := map[string]string{"down_after_milliseconds": "2000", "min_replicas_to_write": "1", "appendfsync": "always"}
	for _, name := range []string{"n1", "n2"} {
		cs, err := System{}.Container(cluster.NodeConfig{Name: name, Role: cluster.DataRole, Peers: peers(3), Options: opts, DataDir: cluster.DataDir})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs.Sidecars) != 1 || cs.Sidecars[0][0] != "/usr/bin/redis-sentinel" || len(cs.Ports) != 1 || cs.Ports[0] != sentinelPort {
			t.Errorf("%s: sidecars %q, ports %v", name, cs.Sidecars, cs.Ports)
		}
		files := map[string]string{}
		for _, f := range cs.Files {
			files[f.Path] = string(f.Content)
		}
		rc, sc := files[redisConf], files[sentinelConf]
		for _, want := range []string{"appendfsync always", "min-replicas-to-write 1", "min-replicas-max-lag 10", "replica-announce-ip " + name, "dir /data"} {
			if !strings.Contains(rc, want+"\n") {
				t.Errorf("%s redis.conf lacks %q:\n%s", name, want, rc)
			}
		}
		if got := strings.Contains(rc, "replicaof n1 6379"); got != (name != "n1") {
			t.Errorf("%s: replicaof line present %v:\n%s", name, got, rc)
		}
		for _, want := range []string{"sentinel monitor hadrill n1 6379 2", "sentinel down-after-milliseconds hadrill 2000",
			"sentinel failover-timeout hadrill 180000", "sentinel resolve-hostnames yes", "sentinel announce-ip " + name} {
			if !strings.Contains(sc, want+"\n") {
				t.Errorf("%s sentinel.conf lacks %q:\n%s", name, want, sc)
			}
		}
	}
}

// TestContainerSeparate: with separate Sentinels, Redis nodes have no
// sidecar and three sentinel nodes exist as a role.
func TestContainerSeparate(t *testing.T) {
	opts := map[string]string{"sentinels": "separate"}
	cs, err := System{}.Container(cluster.NodeConfig{Name: "n1", Role: cluster.DataRole, Peers: peers(2), Options: opts, DataDir: cluster.DataDir})
	if err != nil || len(cs.Sidecars) != 0 {
		t.Errorf("redis node: sidecars %q, err %v", cs.Sidecars, err)
	}
	roles := System{}.Roles(opts)
	if len(roles) != 1 || roles[0].Count != 3 || roles[0].Port != sentinelPort || roles[0].Prefix != "s" {
		t.Errorf("roles %+v", roles)
	}
	cs, err = System{}.Container(cluster.NodeConfig{Name: "s1", Role: "sentinel", Peers: peers(2), Options: opts})
	if err != nil || cs.Entrypoint[0] != "/usr/bin/redis-sentinel" {
		t.Errorf("sentinel node: %q, %v", cs.Entrypoint, err)
	}
	if (System{}).Roles(nil) != nil {
		t.Error("colocated Sentinels made a role")
	}
	if _, err := (System{}).Container(cluster.NodeConfig{Name: "n1", Role: cluster.DataRole, Peers: peers(2)}); err == nil {
		t.Error("two Redis nodes with colocated Sentinels (quorum 2 of 3) accepted")
	}
	if _, err := (System{}).Container(cluster.NodeConfig{Name: "n1", Role: cluster.DataRole, Peers: peers(3), Options: map[string]string{"bogus": "1"}}); err == nil {
		t.Error("unknown option accepted")
	}
}

func TestCheckOptions(t *testing.T) {
	if o, _ := (System{}).CheckOptions(map[string]string{"down_after_milliseconds": "5000", "failover_timeout": "2000"}); o != "failover_timeout" {
		t.Errorf("failover_timeout below down_after: got %q", o)
	}
	if o, msg := (System{}).CheckOptions(map[string]string{"down_after_milliseconds": "2000", "failover_timeout": "10000"}); o != "" {
		t.Errorf("good options refused: %s %s", o, msg)
	}
}

// TestAddrMap: what a Sentinel reports (a name or an address on the run
// network) maps to a data node.
func TestAddrMap(t *testing.T) {
	m := addrMap{names: map[string]bool{"n1": true, "n2": true}, ips: map[string]string{"172.18.0.3": "n2"}}
	for host, want := range map[string]string{"n1": "n1", "172.18.0.3": "n2", "172.18.0.9": "", "s1": "", "": ""} {
		if got := m.node(host); got != want {
			t.Errorf("node(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestMajority(t *testing.T) {
	cases := []struct {
		answers map[string]string
		want    string
	}{
		{map[string]string{"n1": "n1", "n2": "n1", "n3": "n1"}, "n1"},
		{map[string]string{"n1": "n1", "n2": "n2", "n3": "n2"}, "n2"},
		{map[string]string{"n1": "n1", "n2": "n2", "n3": "?timeout"}, ""},
		{map[string]string{"n1": "?a", "n2": "?a", "n3": "?a"}, ""},
		{map[string]string{"n2": "n2"}, ""}, // one of three is no majority
	}
	for _, c := range cases {
		if got := majority(c.answers, 3); got != c.want {
			t.Errorf("majority(%v) = %q, want %q", c.answers, got, c.want)
		}
	}
}

func TestParseRole(t *testing.T) {
	r, err := parseRole([]any{"slave", "n2", int64(6379), "connected", int64(10)})
	if err != nil || r.role != "slave" || r.master != "n2" || !r.linked {
		t.Errorf("replica: %+v %v", r, err)
	}
	r, err = parseRole([]any{"master", int64(10), []any{}})
	if err != nil || r.role != "master" || r.master != "" {
		t.Errorf("master: %+v %v", r, err)
	}
	if _, err := parseRole(nil); err == nil {
		t.Error("empty ROLE accepted")
	}
}

// TestClassify: refusals are definite NotPrimaryErrors, a failed dial is
// ErrUnreachable, a timeout stays indeterminate (workload.Classify: info).
func TestClassify(t *testing.T) {
	readonly := redisErr("READONLY You can't write against a read only replica.")
	noreplicas := redisErr("NOREPLICAS Not enough good replicas to write.")
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	read := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}
	cases := []struct {
		err        error
		notPrimary bool
		definite   bool
	}{
		{readonly, true, true},
		{redisErr("LOADING Redis is loading the dataset in memory"), true, true},
		{noreplicas, true, true},
		{redisErr("ERR unknown command"), false, true},
		{dial, false, true},
		{read, false, false},
		{errors.New("context deadline exceeded"), false, false},
	}
	for _, c := range cases {
		err := classify("n1", c.err)
		var np *workload.NotPrimaryError
		if errors.As(err, &np) != c.notPrimary || errors.Is(err, workload.ErrNotApplied) != c.definite {
			t.Errorf("classify(%v) = %v: not primary %v, definite %v", c.err, err, errors.As(err, &np), errors.Is(err, workload.ErrNotApplied))
		}
	}
	if errors.Is(classify("n1", dial), workload.ErrUnreachable) != true {
		t.Error("a failed dial is not ErrUnreachable")
	}
}

// redisErr is an error reply as go-redis returns it.
type redisErr string

func (e redisErr) Error() string { return string(e) }
func (redisErr) RedisError()     {}

var _ redis.Error = redisErr("")
