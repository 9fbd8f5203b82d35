package postgresautofailover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/workload"
)

// schema is the workload's table. It is created on the primary before the
// load starts and reaches the standbys by replication.
const schema = `CREATE TABLE IF NOT EXISTS kv (key text PRIMARY KEY, value text NOT NULL)`

// NewClient opens a connection pool per data node (each sized for every
// logical client) and creates the kv table on the primary.
func (System) NewClient(ctx context.Context, c *cluster.Cluster, clients int) (systems.Client, error) {
	cl := &client{c: c, clients: max(clients, 1), pools: map[string]*pool{}}
	if err := cl.connect(c.ClientAddrs()); err != nil {
		cl.Close()
		return nil, err
	}
	if err := cl.createTable(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// client is the workload's KV over PostgreSQL. Every operation goes to the
// node the workload's router chose; a standby refuses reads and writes
// alike, so that only a node that believes it is primary serves.
//
//	what happened                                   write, cas   read
//	ok; CAS updated no row (other value, or absent) ok; 412      ok
//	25006 read-only transaction, or standby         fail (not primary, the router moves on)
//	no connection made (refused, connect timeout),  fail         fail
//	  or pgconn says nothing was sent
//	57P03 cannot connect now; classes 22, 23, 42    fail         fail
//	timeout or lost connection after sending,       info         fail
//	  any other server error
type client struct {
	c       *cluster.Cluster
	clients int

	mu    sync.RWMutex
	pools map[string]*pool
	names []string
}

type pool struct {
	addr string
	p    *pgxpool.Pool
}

// connect makes a pool for each node whose address is new. Pools connect
// lazily, so a node that is down now does not fail the client.
func (cl *client) connect(addrs map[string]string) error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for name, addr := range addrs {
		if p, ok := cl.pools[name]; ok && p.addr == addr {
			continue
		}
		cfg, err := pgxpool.ParseConfig(fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable&connect_timeout=2", addr))
		if err != nil {
			return fmt.Errorf("configure pool for %s: %w", name, err)
		}
		cfg.MaxConns = int32(cl.clients)
		cfg.MinConns = 0
		cfg.HealthCheckPeriod = time.Second
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			return fmt.Errorf("make pool for %s at %s: %w", name, addr, err)
		}
		if old, ok := cl.pools[name]; ok {
			old.p.Close()
		}
		cl.pools[name] = &pool{addr: addr, p: p}
	}
	cl.names = slices.Sorted(func(yield func(string) bool) {
		for n := range cl.pools {
			if !yield(n) {
				return
			}
		}
	})
	return nil
}

// createTable creates the kv table on the primary, retrying while the
// cluster settles (the monitor may still be promoting the first node).
func (cl *client) createTable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		var err error
		if primary, perr := cl.c.Primary(ctx); perr != nil {
			err = perr
		} else if p, perr := cl.pool(primary); perr != nil {
			err = perr
		} else if _, err = p.Exec(ctx, schema); err == nil {
			err = cl.tableEverywhere(ctx)
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create the kv table on the primary: %w", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// tableEverywhere checks that every data node has replayed the table, so
// that the first operations a standby refuses are refused as a standby
// (25006), not for a missing table.
func (cl *client) tableEverywhere(ctx context.Context) error {
	for _, n := range cl.Nodes() {
		p, err := cl.pool(n)
		if err != nil {
			return err
		}
		var found bool
		if err := p.QueryRow(ctx, `SELECT to_regclass('kv') IS NOT NULL`).Scan(&found); err != nil {
			return fmt.Errorf("look for the kv table on %s: %w", n, err)
		}
		if !found {
			return fmt.Errorf("look for the kv table on %s: not replayed yet", n)
		}
	}
	return nil
}

// Refresh makes new pools for nodes whose published port changed.
func (cl *client) Refresh() { _ = cl.connect(cl.c.ClientAddrs()) }

// Close closes every pool.
func (cl *client) Close() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, p := range cl.pools {
		p.p.Close()
	}
	cl.pools = map[string]*pool{}
	return nil
}

// Nodes lists the data nodes in name order.
func (cl *client) Nodes() []string {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	return cl.names
}

func (cl *client) pool(node string) (*pgxpool.Pool, error) {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	p, ok := cl.pools[node]
	if !ok {
		return nil, fmt.Errorf("on %s: %w: unknown node", node, workload.ErrRejected)
	}
	return p.p, nil
}

// Get reads key on node, if node is not in recovery: a standby's copy may
// be stale, so it refuses like a standby refuses a write.
func (cl *client) Get(ctx context.Context, node, key string) (string, bool, error) {
	p, err := cl.pool(node)
	if err != nil {
		return "", false, err
	}
	var standby bool
	var value *string
	err = p.QueryRow(ctx, `SELECT pg_is_in_recovery(), (SELECT value FROM kv WHERE key = $1)`, key).Scan(&standby, &value)
	switch {
	case err != nil:
		return "", false, classify(node, err)
	case standby:
		return "", false, &workload.NotPrimaryError{Node: node}
	case value == nil:
		return "", false, nil
	}
	return *value, true, nil
}

// Put writes key (an upsert).
func (cl *client) Put(ctx context.Context, node, key, value string) error {
	p, err := cl.pool(node)
	if err != nil {
		return err
	}
	_, err = p.Exec(ctx, `INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, key, value)
	return classify(node, err)
}

// CAS updates key from `from` to `to` in one statement. No row updated
// means the value differed, or the key was never written (an absent key
// holds no value, so it equals none): ErrPrecondition, served by the primary.
func (cl *client) CAS(ctx context.Context, node, key, from, to string) error {
	p, err := cl.pool(node)
	if err != nil {
		return err
	}
	tag, err := p.Exec(ctx, `UPDATE kv SET value = $3 WHERE key = $1 AND value = $2`, key, from, to)
	if err != nil {
		return classify(node, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("on %s: %w", node, workload.ErrPrecondition)
	}
	return nil
}

// Scan reads every key with the prefix on node, if node is not in recovery.
func (cl *client) Scan(ctx context.Context, node, prefix string) (map[string]string, error) {
	p, err := cl.pool(node)
	if err != nil {
		return nil, err
	}
	tx, err := p.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, classify(node, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var standby bool
	if err := tx.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&standby); err != nil {
		return nil, classify(node, err)
	}
	if standby {
		return nil, &workload.NotPrimaryError{Node: node}
	}
	rows, err := tx.Query(ctx, `SELECT key, value FROM kv WHERE starts_with(key, $1)`, prefix)
	if err != nil {
		return nil, classify(node, err)
	}
	out := map[string]string{}
	var k, v string
	_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		out[k] = v
		return nil
	})
	if err != nil {
		return nil, classify(node, err)
	}
	return out, nil
}

// Role is the node's own view: "primary" unless it is in recovery. The
// final read uses it to scan only a node that says it is primary.
func (cl *client) Role(ctx context.Context, node string) (string, string, error) {
	p, err := cl.pool(node)
	if err != nil {
		return "", "", err
	}
	var standby bool
	if err := p.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&standby); err != nil {
		return "", "", classify(node, err)
	}
	if standby {
		return "standby", "", nil
	}
	return "primary", "", nil
}

// classify marks the errors after which PostgreSQL certainly did not apply
// the statement as definite. An autocommit statement that got an error
// response was rolled back, but only some errors say so before anything
// could have been committed: a connection lost, or a timeout, after the
// statement was sent leaves it unknown (it may have committed, and a
// synchronous commit may have been applied locally while waiting for the
// standby).
func classify(node string, err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	var connErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connErr), pgconn.SafeToRetry(err):
		// No statement was sent: refused, timed out or rejected while
		// connecting (57P03 "the database system is starting up" included).
		return fmt.Errorf("on %s: %w: %w", node, workload.ErrUnreachable, err)
	case errors.As(err, &pgErr) && pgErr.Code == "25006": // read_only_sql_transaction: a standby
		return &workload.NotPrimaryError{Node: node}
	case errors.As(err, &pgErr) && (pgErr.Code == "57P03" || slices.Contains([]string{"22", "23", "42"}, pgErr.Code[:2])):
		// Refused before acting: not accepting connections, or a bad
		// statement or value.
		return fmt.Errorf("on %s: %w: %w", node, workload.ErrRejected, err)
	}
	return fmt.Errorf("on %s: %w", node, err)
}
