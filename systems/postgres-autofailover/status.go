package postgresautofailover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/hadrill/hadrill/cluster"
)

// connect opens one connection to the database db at addr (127.0.0.1:port)
// as postgres; the run network trusts every host (see run-node.sh).
func connect(ctx context.Context, addr, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable&connect_timeout=2", addr, db))
	if err != nil {
		return nil, fmt.Errorf("parse address %s: %w", addr, err)
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// probeData passes when a data node answers SQL and, if it is a standby,
// streams WAL from a primary.
func probeData(ctx context.Context, addr string) error {
	conn, err := connect(ctx, addr, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var standby bool
	var status *string
	err = conn.QueryRow(ctx, `SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver LIMIT 1)`).Scan(&standby, &status)
	switch {
	case err != nil:
		return fmt.Errorf("ask %s for its role: %w", addr, err)
	case standby && (status == nil || *status != "streaming"):
		return errors.New("standby does not stream WAL yet")
	}
	return nil
}

// probeMonitor passes when the monitor's pg_auto_failover extension answers.
func probeMonitor(ctx context.Context, addr string) error {
	conn, err := connect(ctx, addr, "pg_auto_failover")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pgautofailover.formation`).Scan(&n); err != nil {
		return fmt.Errorf("ask the monitor at %s for its formations: %w", addr, err)
	}
	return nil
}

// writable are the states in which pg_auto_failover has a data node take
// writes (pg_autoctl's state machine: a lone node, a primary with or
// without its standbys in sync, and the steps it passes through while
// staying primary).
var writable = []string{"single", "primary", "wait_primary", "join_primary", "apply_settings"}

// nodeState is one row of the monitor's pgautofailover.node.
type nodeState struct {
	Name, Reported, Goal string
}

// monitorStates reads every data node's state from the monitor.
func monitorStates(ctx context.Context, addr string) ([]nodeState, error) {
	conn, err := connect(ctx, addr, "pg_auto_failover")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT nodename, reportedstate::text, goalstate::text FROM pgautofailover.node ORDER BY nodeid`)
	if err != nil {
		return nil, fmt.Errorf("read node states from the monitor: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (nodeState, error) {
		var s nodeState
		err := r.Scan(&s.Name, &s.Reported, &s.Goal)
		return s, err
	})
}

// primaryOf is the node the monitor has settled as primary: reported and
// assigned a writable state.
func primaryOf(states []nodeState) (string, bool) {
	for _, s := range states {
		if s.Reported == s.Goal && slices.Contains(writable, s.Reported) {
			return s.Name, true
		}
	}
	return "", false
}

// Primary is the monitor's primary: the node it assigned a writable state
// and which reported reaching it. Without an answer from the monitor, it is
// the one data node not in recovery, if exactly one says so.
func (s System) Primary(ctx context.Context, nodes []*cluster.Node) (string, error) {
	if monitor, _ := split(nodes); monitor != nil {
		if states, err := monitorStates(ctx, monitor.ClientAddr()); err == nil {
			if p, ok := primaryOf(states); ok {
				return p, nil
			}
			return "", fmt.Errorf("read the monitor's states %v: %w", states, cluster.ErrNoPrimary)
		}
	}
	claims, _ := s.Claims(ctx, nodes)
	var primaries []string
	for _, c := range claims {
		if c.Role == "primary" {
			primaries = append(primaries, c.Node)
		}
	}
	if len(primaries) != 1 {
		return "", fmt.Errorf("find the primary without the monitor (claimed by %v): %w", primaries, cluster.ErrNoPrimary)
	}
	return primaries[0], nil
}

// steady is whether the monitor's states are pg_auto_failover's steady
// state, and if not, what is missing: every data node has reached its goal,
// one is "primary" (or "single", alone) and the others "secondary". Only in
// "primary" has the keeper turned synchronous replication on; in
// wait_primary it is off while the standby catches up (pg_auto_failover's
// documentation, "Failover State Machine": "The primary state is a strong
// assurance. It's the only state where we know we can fail over").
// dataNodes is how many data nodes the cluster has: until every one has
// registered, the monitor's table alone could look steady.
func steady(states []nodeState, dataNodes int) error {
	if len(states) != dataNodes {
		return fmt.Errorf("%d of %d data nodes registered with the monitor", len(states), dataNodes)
	}
	var primaries int
	for _, s := range states {
		switch {
		case s.Reported != s.Goal:
			return fmt.Errorf("node %s is %s on its way to %s", s.Name, s.Reported, s.Goal)
		case s.Reported == "primary" || s.Reported == "single" && len(states) == 1:
			primaries++
		case s.Reported != "secondary":
			return fmt.Errorf("node %s is %s", s.Name, s.Reported)
		}
	}
	if primaries != 1 {
		return fmt.Errorf("%d of %d data nodes primary", primaries, len(states))
	}
	return nil
}

// Steady passes once the monitor shows the steady state (see steady), so
// the drill's load and faults meet the replication the scenario set.
func (System) Steady(ctx context.Context, nodes []*cluster.Node) error {
	monitor, data := split(nodes)
	if monitor == nil {
		return errors.New("no monitor node")
	}
	states, err := monitorStates(ctx, monitor.ClientAddr())
	if err != nil {
		return err
	}
	return steady(states, len(data))
}

// split separates the monitor (nil if the cluster has none) from the data
// nodes.
func split(nodes []*cluster.Node) (monitor *cluster.Node, data []*cluster.Node) {
	for _, n := range nodes {
		if n.Role() == monitorRole {
			monitor = n
		} else {
			data = append(data, n)
		}
	}
	return monitor, data
}

// Claims asks every data node whether it is in recovery: "primary" when
// not, "standby" when it is; Epoch is its timeline, which each promotion
// increments, so two primaries after a split brain show on their timelines.
func (System) Claims(ctx context.Context, nodes []*cluster.Node) ([]cluster.Claim, error) {
	_, data := split(nodes)
	claims := make([]cluster.Claim, len(data))
	var wg sync.WaitGroup
	for i, n := range data {
		wg.Go(func() {
			claims[i] = claim(ctx, n)
		})
	}
	wg.Wait()
	return claims, nil
}

func claim(ctx context.Context, n *cluster.Node) cluster.Claim {
	c := cluster.Claim{Node: n.Name()}
	ctx, cancel := context.WithTimeout(ctx, System{}.Health().Timeout)
	defer cancel()
	conn, err := connect(ctx, n.ClientAddr(), "postgres")
	if err != nil {
		c.Err = fmt.Errorf("ask %s for its role: %w", n.Name(), err)
		return c
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var standby bool
	var tli int64
	err = conn.QueryRow(ctx, `SELECT pg_is_in_recovery(), (SELECT timeline_id FROM pg_control_checkpoint())`).Scan(&standby, &tli)
	if err != nil {
		c.Err = fmt.Errorf("ask %s for its role: %w", n.Name(), err)
		return c
	}
	c.Role, c.Epoch = "primary", uint64(tli)
	if standby {
		c.Role = "standby"
	}
	return c
}
