// Command hadrill runs chaos drills on primary/standby clusters: it builds a
// containerized cluster, loads it, injects faults, records every operation
// and checks linearizability, RTO, RPO and availability against targets.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "agent" {
		// The node agent handles its own signals: it is PID 1 in a node
		// container and forwards them to the system under test.
		os.Exit(execute(context.Background(), os.Args[1:]))
	}
	survivePipeClose()
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal starts an orderly stop: heal every fault,
		// remove the containers, keep the partial results. The exit code
		// follows the Ctrl-C rule of exitCodesHelp (runError): 130 when
		// the load had not ended; after it, the run checks what it
		// recorded and exits with its verdict's code. A second signal is
		// the user insisting: leave now (130), and say how to clean up.
		<-sigs
		fmt.Fprintln(os.Stderr, "hadrill: interrupted: healing faults and removing containers (interrupt again to quit at once)")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "hadrill: interrupted again: quitting; `hadrill cleanup` removes what is left")
		os.Exit(exitInterrupted)
	}()
	code := execute(ctx, os.Args[1:])
	cancel()
	os.Exit(code)
}

// survivePipeClose keeps a closed stdout or stderr (`hadrill run ... |
// head`, a parent that died) from killing the process before it has
// removed its containers: with SIGPIPE delivered to a channel, such writes
// fail with EPIPE instead (os/signal). Notify rather than Ignore: an
// ignored signal stays ignored in every program hadrill starts
// (debootstrap, apt), whose pipelines rely on SIGPIPE; a caught one is
// reset to the default in them.
func survivePipeClose() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}
