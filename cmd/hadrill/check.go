package main

import (
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/drill"
)

func init() { subcommands = append(subcommands, newCheckCmd) }

func newCheckCmd() *cobra.Command {
	var opt drill.CheckOptions
	cmd := &cobra.Command{
		Use:   "check RUNDIR",
		Short: "Re-check a saved run offline and rewrite its verdict",
		Long: `Check reads a run folder (scenario.yaml, history.jsonl, faults.jsonl) and
runs every check again, exactly as the run did, rewriting verdict.json and
junit.xml. It works on the partial history of a crashed or interrupted run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := drill.CheckRun(cmd.Context(), args[0], opt)
			if err != nil {
				if errors.Is(err, drill.ErrBadRun) {
					return badInput(err)
				}
				return err
			}
			printSummary(os.Stdout, args[0], v)
			if v.Verdict != checker.Pass {
				return withCode(exitFailed, nil)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&opt.LinearizabilityTimeout, "linearizability-timeout", 0, "bound on the linearizability search (default 60s); a timeout gives unknown")
	return cmd
}
