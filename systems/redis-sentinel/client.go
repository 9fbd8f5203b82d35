package redissentinel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/workload"
)

// casScript is compare-and-set as one atomic step on the server: Redis runs
// a script alone, so nothing comes between the GET and the SET.
const casScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 else return 0 end`

// NewClient opens a connection pool per Redis node. Operations go to the
// node the workload's router picks; a node that is not the primary refuses
// with the primary it follows, and the Sentinels' majority view names the
// primary for the final read, as a Sentinel-aware application finds it.
func (System) NewClient(ctx context.Context, c *cluster.Cluster, clients int) (systems.Client, error) {
	cl := &client{c: c, pool: max(clients, 1), nodes: map[string]*redis.Client{}, addrs: map[string]string{}}
	cl.Refresh()
	if len(cl.names) == 0 {
		return nil, errors.New("connect to redis: no nodes")
	}
	return cl, nil
}

// client is the workload's KV over Redis.
//
//	what happened                                       write, cas   read
//	ok; CAS script returned 0                           ok; 412      ok
//	ROLE says replica, READONLY, LOADING, MASTERDOWN,   fail         fail
//	  NOREPLICAS (refused: not a primary that writes)
//	no connection made (dial failed)                    fail         fail
//	other error reply                                   fail         fail
//	timeout, connection lost after sending              info         fail
type client struct {
	c    *cluster.Cluster
	pool int

	mu    sync.RWMutex
	nodes map[string]*redis.Client
	addrs map[string]string
	names []string
	am    addrMap

	hintMu sync.Mutex
	hint   string
	hintAt time.Time
}

// Refresh reconnects to nodes whose published port changed and re-reads
// the nodes' addresses on the run network.
func (cl *client) Refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	am := newAddrMap(ctx, cl.c.Nodes())
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.am = am
	for name, addr := range cl.c.ClientAddrs() {
		if cl.addrs[name] == addr {
			continue
		}
		if old, ok := cl.nodes[name]; ok {
			old.Close()
		}
		cl.nodes[name] = redis.NewClient(&redis.Options{
			Addr: addr, PoolSize: cl.pool, MaxRetries: -1, DialerRetries: 1,
			DialTimeout: time.Second, ContextTimeoutEnabled: true, Protocol: 2, DisableIdentity: true,
		})
		cl.addrs[name] = addr
	}
	cl.names = slices.Sorted(func(yield func(string) bool) {
		for n := range cl.nodes {
			if !yield(n) {
				return
			}
		}
	})
}

// Close closes every node's pool.
func (cl *client) Close() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var errs []error
	for _, c := range cl.nodes {
		errs = append(errs, c.Close())
	}
	cl.nodes, cl.addrs, cl.names = map[string]*redis.Client{}, map[string]string{}, nil
	return errors.Join(errs...)
}

// Nodes lists the Redis nodes in name order.
func (cl *client) Nodes() []string {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	return cl.names
}

func (cl *client) node(name string) (*redis.Client, addrMap, error) {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	c, ok := cl.nodes[name]
	if !ok {
		return nil, cl.am, fmt.Errorf("on %s: %w: unknown node", name, workload.ErrRejected)
	}
	return c, cl.am, nil
}

// onPrimary runs cmd in one round trip after ROLE, so that a replica is
// refused with the primary it follows. Reads are refused on replicas too:
// a Sentinel client reads from the primary, and a replica's copy may lag.
// A write a replica took anyway (it was promoted between ROLE and the
// write) is reported as the success it was.
func (cl *client) onPrimary(ctx context.Context, name string, read bool, cmd func(redis.Pipeliner) redis.Cmder) (redis.Cmder, error) {
	c, am, err := cl.node(name)
	if err != nil {
		return nil, err
	}
	var roleCmd *redis.Cmd
	var out redis.Cmder
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		roleCmd = p.Do(ctx, "ROLE")
		out = cmd(p)
		return nil
	})
	err = out.Err()
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	var r nodeRole
	v, rerr := roleCmd.Slice()
	if rerr == nil {
		r, rerr = parseRole(v)
	}
	switch {
	case rerr == nil && r.role != "master" && (read || isRefusal(err)):
		hint := am.node(r.master)
		if !r.linked {
			hint = cl.sentinelHint(ctx)
		}
		return out, &workload.NotPrimaryError{Node: name, Primary: hint}
	case isRefusal(err):
		// A primary that will not write (NOREPLICAS) knows no other: the
		// Sentinels do.
		return out, fmt.Errorf("%w: %w", &workload.NotPrimaryError{Node: name, Primary: cl.sentinelHint(ctx)}, err)
	}
	return out, classify(name, err)
}

// hintEvery bounds how often the client asks the Sentinels for a hint.
const hintEvery = 250 * time.Millisecond

// sentinelHint is the primary the Sentinels' majority names, asked at most
// every hintEvery, for refusals that name no primary.
func (cl *client) sentinelHint(ctx context.Context) string {
	cl.hintMu.Lock()
	defer cl.hintMu.Unlock()
	if time.Since(cl.hintAt) < hintEvery {
		return cl.hint
	}
	cl.mu.RLock()
	am := cl.am
	cl.mu.RUnlock()
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	cl.hint, _ = sentinelView(cctx, sentinelAddrs(cl.c.AllNodes()), am)
	cl.hintAt = time.Now()
	return cl.hint
}

// Get reads key on the node, if it is the primary.
func (cl *client) Get(ctx context.Context, node, key string) (string, bool, error) {
	out, err := cl.onPrimary(ctx, node, true, func(p redis.Pipeliner) redis.Cmder { return p.Get(ctx, key) })
	if err != nil {
		return "", false, err
	}
	v, gerr := out.(*redis.StringCmd).Result()
	if errors.Is(gerr, redis.Nil) {
		return "", false, nil
	}
	return v, true, nil
}

// Put writes key with SET.
func (cl *client) Put(ctx context.Context, node, key, value string) error {
	_, err := cl.onPrimary(ctx, node, false, func(p redis.Pipeliner) redis.Cmder { return p.Set(ctx, key, value, 0) })
	return err
}

// CAS runs casScript: 0 means the value differed, ErrPrecondition.
func (cl *client) CAS(ctx context.Context, node, key, from, to string) error {
	out, err := cl.onPrimary(ctx, node, false, func(p redis.Pipeliner) redis.Cmder {
		return p.Eval(ctx, casScript, []string{key}, from, to)
	})
	if err != nil {
		return err
	}
	if n, _ := out.(*redis.Cmd).Int(); n != 1 {
		return fmt.Errorf("on %s: %w", node, workload.ErrPrecondition)
	}
	return nil
}

// Scan reads every key with the prefix: SCAN MATCH to list them, then MGET
// in batches. Keys are never deleted, so a key listed is read back.
func (cl *client) Scan(ctx context.Context, node, prefix string) (map[string]string, error) {
	c, _, err := cl.node(node)
	if err != nil {
		return nil, err
	}
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, classify(node, err)
	}
	out := make(map[string]string, len(keys))
	for batch := range slices.Chunk(keys, 500) {
		vals, err := c.MGet(ctx, batch...).Result()
		if err != nil {
			return nil, classify(node, err)
		}
		for i, v := range vals {
			if s, ok := v.(string); ok {
				out[batch[i]] = s
			}
		}
	}
	return out, nil
}

// Role is the node's own ROLE, with the primary the Sentinels' majority
// names as the hint (the final read scans only a node that says master).
func (cl *client) Role(ctx context.Context, node string) (string, string, error) {
	c, am, err := cl.node(node)
	if err != nil {
		return "", "", err
	}
	r, err := askRole(ctx, c)
	if err != nil {
		return "", "", classify(node, err)
	}
	hint, _ := sentinelView(ctx, sentinelAddrs(cl.c.AllNodes()), am)
	if r.role == "master" {
		return "primary", hint, nil
	}
	if hint == "" {
		hint = am.node(r.master)
	}
	return r.role, hint, nil
}

// refusals are the error replies of a node that will not serve writes now:
// a replica (READONLY), a node loading its data (LOADING), a replica that
// lost its primary (MASTERDOWN), a primary without enough good replicas
// (NOREPLICAS, min-replicas-to-write).
var refusals = []string{"READONLY", "LOADING", "MASTERDOWN", "NOREPLICAS"}

func isRefusal(err error) bool {
	for _, p := range refusals {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

func isRedisError(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !errors.Is(err, redis.Nil)
}

// classify maps an error to the workload's classes (see client).
func classify(node string, err error) error {
	var op *net.OpError
	switch {
	case err == nil:
		return nil
	case isRefusal(err):
		return fmt.Errorf("%w: %w", &workload.NotPrimaryError{Node: node}, err)
	case isRedisError(err):
		return fmt.Errorf("on %s: %w: %w", node, workload.ErrRejected, err)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("on %s: %w: %w", node, workload.ErrUnreachable, err)
	}
	return fmt.Errorf("on %s: %w", node, err)
}
