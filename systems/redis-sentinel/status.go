package redissentinel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hadrill/hadrill/cluster"
)

// oneShot opens a connection for one question: a probe must reach the
// node's current process, never a pooled connection to a killed one.
func oneShot(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1, MaxRetries: -1,
		DialTimeout: time.Second, ContextTimeoutEnabled: true, Protocol: 2, DisableIdentity: true})
}

// ping is the readiness probe of Sentinel nodes.
func ping(ctx context.Context, addr string) error {
	c := oneShot(addr)
	defer c.Close()
	return c.Ping(ctx).Err()
}

// ready is the readiness probe of Redis nodes: a primary that answers, or
// a replica whose link to its primary is up, so that the load starts on a
// replicated cluster (min_replicas_to_write refuses writes until then).
func ready(ctx context.Context, addr string) error {
	c := oneShot(addr)
	defer c.Close()
	r, err := askRole(ctx, c)
	if err != nil {
		return err
	}
	if r.role == "slave" && !r.linked {
		return fmt.Errorf("replica of %s: link down", r.master)
	}
	return nil
}

// sentinelAddrs are the published addresses of the Sentinels: port 26379 of
// each Redis node when they are colocated, the sentinel nodes otherwise.
func sentinelAddrs(nodes []*cluster.Node) map[string]string {
	out := map[string]string{}
	for _, n := range nodes {
		switch n.Role() {
		case "sentinel":
			out[n.Name()] = n.ClientAddr()
		case cluster.DataRole:
			if a := n.Addr(sentinelPort); a != "" {
				out[n.Name()] = a
			}
		}
	}
	return out
}

// masterAddr asks one Sentinel where the primary is: host and port as the
// Sentinel knows them (a node name here, or an address).
func masterAddr(ctx context.Context, addr string) (string, error) {
	c := oneShot(addr)
	defer c.Close()
	hp, err := c.Do(ctx, "SENTINEL", "get-master-addr-by-name", masterName).StringSlice()
	if err != nil {
		return "", err
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("sentinel at %s: get-master-addr-by-name answered %q", addr, hp)
	}
	return hp[0], nil
}

// addrMap maps what Redis and Sentinel report (a node name, or an address
// on the run network) to node names.
type addrMap struct {
	names map[string]bool   // data node names
	ips   map[string]string // address -> data node name
}

// newAddrMap reads every data node's current address on the run network.
// A node whose address cannot be read (stopped) is only known by name.
func newAddrMap(ctx context.Context, nodes []*cluster.Node) addrMap {
	m := addrMap{names: map[string]bool{}, ips: map[string]string{}}
	for _, n := range nodes {
		if n.Role() != cluster.DataRole {
			continue
		}
		m.names[n.Name()] = true
		if ip, err := n.IP(ctx); err == nil {
			m.ips[ip.String()] = n.Name()
		}
	}
	return m
}

// node names the data node host stands for, or "" when it is none.
func (m addrMap) node(host string) string {
	if m.names[host] {
		return host
	}
	if ip := net.ParseIP(host); ip != nil {
		return m.ips[ip.String()]
	}
	return ""
}

// sentinelView asks every Sentinel at once which node is the primary and
// returns the node a majority of all Sentinels names, or "" (with the
// answers, for the error) when no majority agrees.
func sentinelView(ctx context.Context, sentinels map[string]string, m addrMap) (string, map[string]string) {
	answers := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, addr := range sentinels {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			host, err := masterAddr(cctx, addr)
			v := m.node(host)
			switch {
			case err != nil:
				v = "?" + err.Error()
			case v == "":
				v = "?unknown host " + host
			}
			mu.Lock()
			answers[name] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	return majority(answers, len(sentinels)), answers
}

// majority is the node more than half of total Sentinels named; answers
// that start with "?" are why a Sentinel named none.
func majority(answers map[string]string, total int) string {
	votes := map[string]int{}
	for _, v := range answers {
		votes[v]++
	}
	for v, n := range votes {
		if 2*n > total && !strings.HasPrefix(v, "?") {
			return v
		}
	}
	return ""
}

// Primary is the node a majority of the Sentinels names, as a client of
// Sentinel would be told (SENTINEL get-master-addr-by-name).
func (System) Primary(ctx context.Context, nodes []*cluster.Node) (string, error) {
	p, answers := sentinelView(ctx, sentinelAddrs(nodes), newAddrMap(ctx, nodes))
	if p == "" {
		return "", fmt.Errorf("ask sentinels for the primary: no majority in %v: %w", answers, cluster.ErrNoPrimary)
	}
	return p, nil
}

// nodeRole is what ROLE says of a Redis node: "master", or "slave" with the
// primary it follows (host as configured).
type nodeRole struct {
	role   string
	master string
	// linked says a replica's link to its primary is up ("connected").
	linked bool
}

// askRole sends ROLE to one Redis node.
func askRole(ctx context.Context, c *redis.Client) (nodeRole, error) {
	v, err := c.Do(ctx, "ROLE").Slice()
	if err != nil {
		return nodeRole{}, err
	}
	return parseRole(v)
}

// parseRole reads a ROLE reply: [master offset replicas] or
// [slave host port state offset].
func parseRole(v []any) (nodeRole, error) {
	if len(v) == 0 {
		return nodeRole{}, errors.New("parse ROLE: empty reply")
	}
	r := nodeRole{role: fmt.Sprint(v[0])}
	if r.role == "slave" && len(v) > 3 {
		r.master, r.linked = fmt.Sprint(v[1]), fmt.Sprint(v[3]) == "connected"
	}
	return r, nil
}

// Claims asks every Redis node for its ROLE: a primary says "master", a
// replica names the primary it follows. Two nodes saying "master" is the
// split brain Jepsen found. Epoch stays 0: a Redis node has no election
// term of its own (the epoch is Sentinel's).
func (System) Claims(ctx context.Context, nodes []*cluster.Node) ([]cluster.Claim, error) {
	am := newAddrMap(ctx, nodes)
	var data []*cluster.Node
	for _, n := range nodes {
		if n.Role() == cluster.DataRole {
			data = append(data, n)
		}
	}
	claims := make([]cluster.Claim, len(data))
	var wg sync.WaitGroup
	for i, n := range data {
		wg.Go(func() {
			claims[i] = claim(ctx, n, am)
		})
	}
	wg.Wait()
	return claims, nil
}

func claim(ctx context.Context, n *cluster.Node, am addrMap) cluster.Claim {
	c := cluster.Claim{Node: n.Name()}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rc := oneShot(n.ClientAddr())
	defer rc.Close()
	r, err := askRole(cctx, rc)
	if err != nil {
		c.Err = fmt.Errorf("ask %s for its role: %w", n.Name(), err)
		return c
	}
	switch r.role {
	case "master":
		c.Role, c.Primary = "primary", n.Name()
	case "slave":
		c.Role, c.Primary = "standby", am.node(r.master)
	default:
		c.Role = r.role
	}
	return c
}

// hostPort joins a host and Redis's port, for messages.
func hostPort(host string) string { return net.JoinHostPort(host, strconv.Itoa(redisPort)) }
