// Command hadrill runs chaos drills on primary/standby clusters: it builds a
// containerized cluster, loads it, injects faults, records every operation
// and checks linearizability, RTO, RPO and availability against targets.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(execute(ctx, os.Args[1:]))
}
