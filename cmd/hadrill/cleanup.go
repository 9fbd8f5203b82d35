package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/cluster/cleanup"
	"github.com/hadrill/hadrill/cluster/engine"
)

func init() { subcommands = append(subcommands, newCleanupCmd) }

func newCleanupCmd() *cobra.Command {
	var opt cleanup.Options
	var engines []string
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove the containers and networks of hadrill runs whose process is gone (after a crash)",
		Long: `Remove the containers and networks that crashed or killed hadrill runs left behind.

Every container and network records the hadrill process that made it (host,
pid and process start time). Without flags, cleanup removes only runs whose
process is gone, and lists the runs it skipped: a drill running beside it on
the same engine is never touched. --run removes one run whatever its state;
--force removes every run.

Exit codes: 0 done, 3 no Docker engine, 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(engines) > 0 {
				r, err := cleanup.SweepEngines(cmd.Context(), opt, engines)
				printRemoved(opt, r)
				return err // codeOf: no engine is 3, an interrupt 130
			}
			if err := engine.Available(cmd.Context()); err != nil {
				return err // codeOf: no engine is 3, an interrupt 130
			}
			r, err := cleanup.Sweep(cmd.Context(), opt)
			printRemoved(opt, r)
			return err
		},
	}
	cmd.Flags().StringVar(&opt.RunID, "run", "", "remove this run's resources, whoever owns them")
	cmd.Flags().BoolVar(&opt.Force, "force", false, "remove every run's resources, even those of live hadrill processes")
	cmd.Flags().BoolVar(&opt.DryRun, "dry-run", false, "remove nothing; say what would be removed and what skipped")
	cmd.MarkFlagsMutuallyExclusive("run", "force")
	cmd.Flags().StringSliceVar(&engines, "engines", nil, "clean these Docker engines (local, docker context names, endpoints) instead of the default one, and dissolve Swarms hadrill created on them")
	return cmd
}

// printRemoved says on stdout what cleanup removed (or would), and which
// runs it left alone and why.
func printRemoved(opt cleanup.Options, r cleanup.Removed) {
	verb := "removed"
	if opt.DryRun {
		verb = "would remove"
	}
	swarms := ""
	if r.Swarms > 0 {
		swarms = fmt.Sprintf(", %d swarms hadrill created", r.Swarms)
	}
	fmt.Fprintf(os.Stdout, "%s %d containers, %d networks, %d build leftovers%s\n", verb, r.Containers, r.Networks, r.Images, swarms)
	for _, s := range r.Skipped {
		fmt.Fprintf(os.Stdout, "skipped run %s: %s\n", s.RunID, s.Reason)
	}
}
