package mariadbkeepalived

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hadrill/hadrill/cluster"
)

// dsn is the client account's connection string to addr (host:port).
// clientFoundRows makes an UPDATE report the rows it matched, not only the
// rows it changed, so a CAS from v to v is a success.
func dsn(addr string, dial time.Duration) string {
	quietDriver.Do(func() { _ = mysql.SetLogger(log.New(io.Discard, "", 0)) })
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = clientUser, clientPass, "tcp", addr, database
	cfg.Timeout = dial
	cfg.ClientFoundRows = true
	return cfg.FormatDSN()
}

// probeServes logs in and runs SELECT 1 on a fresh connection.
func probeServes(ctx context.Context, addr string) error {
	db, err := sql.Open("mysql", dsn(addr, time.Second))
	if err != nil {
		return fmt.Errorf("open %s: %w", addr, err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("select 1 on %s: %w", addr, err)
	}
	return nil
}

// readOnly asks a node, at its own published port, whether it is read-only.
// This is the harness looking at each server, not the workload's client,
// which only ever reaches the virtual IP.
func readOnly(ctx context.Context, addr string) (bool, error) {
	db, err := sql.Open("mysql", dsn(addr, time.Second))
	if err != nil {
		return false, fmt.Errorf("open %s: %w", addr, err)
	}
	defer db.Close()
	var ro bool
	if err := db.QueryRowContext(ctx, "SELECT @@read_only").Scan(&ro); err != nil {
		return false, fmt.Errorf("ask read_only on %s: %w", addr, err)
	}
	return ro, nil
}

// Claims asks every node whether it is writable: a node whose read_only is
// off has been promoted by its notify script, so it claims the primary
// role. After a partition both do: the split brain shows as two primaries.
// (Where the host's traffic to the virtual IP really went is in the
// history: the client names the server of every operation.)
func (System) Claims(ctx context.Context, nodes []*cluster.Node) ([]cluster.Claim, error) {
	claims := make([]cluster.Claim, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			c := cluster.Claim{Node: n.Name()}
			ro, err := readOnly(cctx, n.ClientAddr())
			switch {
			case err != nil:
				c.Err = err
			case ro:
				c.Role = "standby"
			default:
				c.Role, c.Primary = "primary", n.Name()
			}
			claims[i] = c
		})
	}
	wg.Wait()
	return claims, nil
}

// Primary is the writable node; with two (a split brain) the first by name,
// since both take writes.
func (s System) Primary(ctx context.Context, nodes []*cluster.Node) (string, error) {
	claims, err := s.Claims(ctx, nodes)
	if err != nil {
		return "", err
	}
	for _, c := range claims {
		if c.Role == "primary" {
			return c.Node, nil
		}
	}
	return "", cluster.ErrNoPrimary
}
