package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// execute builds the command tree and runs it, returning the exit code.
func execute(ctx context.Context, args []string) int {
	var verbose bool
	root := &cobra.Command{
		Use:   "hadrill",
		Short: "Chaos drills for primary/standby clusters: faults, linearizability, RTO and RPO",
		Long: `hadrill runs chaos drills on primary/standby clusters: it builds a cluster
in containers, loads it, injects faults, records every operation and checks
linearizability, RTO, RPO and availability against the scenario's targets.

Errors about a file start with file:line: (or file:), every other error
line with hadrill:.

` + exitCodesHelp + `

The other commands: compare exits 0 (no regression), 1 (a regression) or 2
(bad input); report and validate 0 or 2; images 0, 2 (an unknown system) or 3
(a build failed, no engine); cleanup 0, 3 (no engine) or 130; list 0.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
		},
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log debug detail to stderr")
	root.SetArgs(args)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput(err) })
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	err := root.ExecuteContext(ctx)
	if err != nil {
		if _, ok := err.(*exitError); !ok && isUsageError(err) {
			err = badInput(err)
		}
		report(err)
	}
	return codeOf(err)
}

// subcommands are registered by each subcommand's file, so adding one does
// not touch this file.
var subcommands []func() *cobra.Command

// isUsageError recognises cobra's own argument errors (unknown command,
// wrong number of arguments), which are bad input.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
