package mariadbkeepalived

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/workload"
)

// errReadOnly is MariaDB's ER_OPTION_PREVENTS_STATEMENT, which a read-only
// server answers to a write: "running with the --read-only option".
const errReadOnly = 1290

// quietDriver silences go-sql-driver's own logging (a connection broken by
// a moving virtual IP is expected here, and is classified, not logged).
var quietDriver sync.Once

// NewClient connects to the virtual IP, never to a node's own address.
func (System) NewClient(_ context.Context, c *cluster.Cluster, clients int) (systems.Client, error) {
	vips := c.Reserved()
	if len(vips) != 1 {
		return nil, fmt.Errorf("connect to the virtual IP: the run network reserved %d addresses, want 1", len(vips))
	}
	addr := net.JoinHostPort(vips[0].String(), strconv.Itoa(clientPort))
	db, err := sql.Open("mysql", dsn(addr, time.Second))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", addr, err)
	}
	db.SetMaxOpenConns(2*clients + 2)
	db.SetMaxIdleConns(2*clients + 2)
	var names []string
	for _, n := range c.Nodes() {
		names = append(names, n.Name())
	}
	return &client{db: db, names: names}, nil
}

// client is the workload's KV over the virtual IP. The workload addresses
// each operation to a node; the client sends it to the virtual IP and first
// asks the connection's server who it is, so that an operation is served
// only by the node it names. An operation addressed to the node that does
// not hold the address is refused before anything is sent, naming the one
// that does: the workload follows that hint, and the history says which
// node held the address, second by second.
//
//	what happened                                   write, cas   read
//	served                                          ok           ok
//	CAS matched no row                              ok; 412      -
//	another node answers the virtual IP             fail (hint)  fail
//	read_only server (1290, or seen before)         fail         -
//	other server error (deadlock, lock timeout)     fail         fail
//	no connection, or the identity query failed     fail         fail
//	timeout or broken connection during the write   info         fail
type client struct {
	db    *sql.DB
	names []string
}

// Nodes are the data nodes' names.
func (cl *client) Nodes() []string { return cl.names }

// Refresh does nothing: the virtual IP never moves in the client's eyes.
func (cl *client) Refresh() {}

// Close closes the pool.
func (cl *client) Close() error { return cl.db.Close() }

// Get reads key, asking the server's identity in the same query.
func (cl *client) Get(ctx context.Context, node, key string) (string, bool, error) {
	conn, err := cl.conn(ctx, node)
	if err != nil {
		return "", false, err
	}
	defer conn.Close()
	var host string
	var ro bool
	var v sql.NullString
	err = conn.QueryRowContext(ctx, "SELECT @@hostname, @@read_only, (SELECT v FROM kv WHERE k = ?)", key).Scan(&host, &ro, &v)
	if err != nil {
		return "", false, classify(node, err)
	}
	if err := cl.served(node, host, false, ro); err != nil {
		return "", false, err
	}
	return v.String, v.Valid, nil
}

// Put writes key.
func (cl *client) Put(ctx context.Context, node, key, value string) error {
	return cl.write(ctx, node, func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)", key, value)
		return err
	})
}

// CAS is an UPDATE that matches the old value; no matched row means the
// value differed (or the key is absent): a definite ErrPrecondition.
func (cl *client) CAS(ctx context.Context, node, key, from, to string) error {
	return cl.write(ctx, node, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, "UPDATE kv SET v = ? WHERE k = ? AND v = ?", to, key, from)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("on %s: %w", node, workload.ErrPrecondition)
		}
		return nil
	})
}

// Scan reads every key with the prefix from the node holding the address.
func (cl *client) Scan(ctx context.Context, node, prefix string) (map[string]string, error) {
	conn, err := cl.conn(ctx, node)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := cl.identify(ctx, conn, node, false); err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, "SELECT k, v FROM kv WHERE k LIKE ?", likePrefix(prefix))
	if err != nil {
		return nil, classify(node, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, classify(node, err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, classify(node, err)
	}
	return out, nil
}

// write runs one write statement on a connection whose server is node and
// is writable.
func (cl *client) write(ctx context.Context, node string, stmt func(*sql.Conn) error) error {
	conn, err := cl.conn(ctx, node)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := cl.identify(ctx, conn, node, true); err != nil {
		return err
	}
	if err := stmt(conn); err != nil {
		if errors.Is(err, workload.ErrPrecondition) {
			return err
		}
		return classify(node, err)
	}
	return nil
}

// conn takes a connection to the virtual IP from the pool. Failing here,
// nothing of the operation was sent.
func (cl *client) conn(ctx context.Context, node string) (*sql.Conn, error) {
	conn, err := cl.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("on %s: %w: connect to the virtual IP: %w", node, workload.ErrUnreachable, err)
	}
	return conn, nil
}

// identify asks the connection's server who it is and whether it is
// read-only. The operation itself has not been sent, so any failure here
// is definite.
func (cl *client) identify(ctx context.Context, conn *sql.Conn, node string, write bool) error {
	var host string
	var ro bool
	if err := conn.QueryRowContext(ctx, "SELECT @@hostname, @@read_only").Scan(&host, &ro); err != nil {
		return fmt.Errorf("on %s: %w: ask the server behind the virtual IP: %w", node, workload.ErrUnreachable, err)
	}
	return cl.served(node, host, write, ro)
}

// served checks that the server behind the address is node, and writable
// for a write.
func (cl *client) served(node, host string, write, ro bool) error {
	switch {
	case host != node:
		np := &workload.NotPrimaryError{Node: node}
		if slices.Contains(cl.names, host) {
			np.Primary = host
		}
		return np
	case write && ro:
		return &workload.NotPrimaryError{Node: node}
	}
	return nil
}

// classify sorts an error of the operation's own statement: a server's
// error answer means it did not apply the statement (autocommit), and
// read_only is the standby's refusal; anything else (a timeout, a broken
// connection) may have happened after the server applied it.
func classify(node string, err error) error {
	var me *mysql.MySQLError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me) && me.Number == errReadOnly:
		return fmt.Errorf("%w: %w", &workload.NotPrimaryError{Node: node}, err)
	case errors.As(err, &me):
		return fmt.Errorf("on %s: %w: %w", node, workload.ErrRejected, err)
	}
	return fmt.Errorf("on %s: %w", node, err)
}

// likePrefix escapes a prefix for LIKE, so '_' and '%' in keys match
// themselves.
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(prefix) + "%"
}
