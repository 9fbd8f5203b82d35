// Command hakv runs one node of hakv, the reference primary/standby
// key-value store that hadrill drills. See package store
// (systems/hakv/store) for the API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hadrill/hadrill/systems/hakv/store"
)

func main() { os.Exit(run()) }

// run returns the exit code: 0 after a clean stop (SIGTERM, SIGINT), 2 for
// a bad command line, 1 when the node could not go on.
func run() int {
	cfg, err := store.ParseFlags(os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(os.Stderr, "hakv: %v (see hakv -h)\n", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("node", cfg.ID)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := store.Run(ctx, cfg, logger); err != nil {
		logger.Error("exiting", "err", err)
		return 1
	}
	return 0
}
