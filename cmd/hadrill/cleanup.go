package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/cluster"
)

func init() { subcommands = append(subcommands, newCleanupCmd) }

func newCleanupCmd() *cobra.Command {
	var run string
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove every container and network hadrill created (after a crash)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cluster.Available(cmd.Context()); err != nil {
				return withCode(exitEnvironment, err)
			}
			r, err := cluster.Cleanup(cmd.Context(), run)
			fmt.Fprintf(os.Stdout, "removed %d containers, %d networks, %d build leftovers\n", r.Containers, r.Networks, r.Images)
			return err
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "remove only this run's resources (default: every run)")
	return cmd
}
