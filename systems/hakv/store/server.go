package store

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// shutdownGrace bounds how long a stopping node waits for requests in flight.
const shutdownGrace = 2 * time.Second

// Run recovers the node from cfg.DataDir, serves the client and internal
// HTTP API on cfg.Listen, and returns when ctx ends (nil: a clean stop) or
// when the node cannot go on (a disk error, a lost listener).
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	peers := make([]string, len(cfg.Peers))
	for i, p := range cfg.Peers {
		peers[i] = p.ID + "=" + p.Addr
	}
	logger.Info("starting", "listen", cfg.Listen, "peers", strings.Join(peers, ","),
		"replication", cfg.Replication, "election", cfg.Election, "heartbeat", cfg.Heartbeat,
		"failover_timeout", cfg.FailoverTimeout, "fsync_always", cfg.FsyncAlways, "stale_reads", cfg.StaleReads)
	n, err := newNode(cfg, logger)
	if err != nil {
		return fmt.Errorf("recover node: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		n.wal.Close()
		return fmt.Errorf("listen: %w", err)
	}
	nctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	srv := &http.Server{
		Handler:           n.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	n.start(nctx, func(err error) { cancel(err) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String())

	var runErr error
	select {
	case <-nctx.Done():
		if ctx.Err() == nil { // not a signal: the node gave up
			runErr = context.Cause(nctx)
		}
	case err := <-served:
		runErr = fmt.Errorf("serve: %w", err)
		cancel(runErr)
	}
	logger.Info("stopping", "err", runErr)
	sctx, scancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer scancel()
	// Stop taking requests, then fail the writes still waiting so that the
	// handlers return, then give them the grace period.
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(sctx) }()
	err = n.stop()
	if serr := <-shut; serr != nil {
		srv.Close()
	}
	if err != nil && runErr == nil {
		runErr = fmt.Errorf("close wal: %w", err)
	}
	logger.Info("stopped")
	return runErr
}
