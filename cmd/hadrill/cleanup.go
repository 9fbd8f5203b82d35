package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/cluster"
)

func init() { subcommands = append(subcommands, newCleanupCmd) }

func newCleanupCmd() *cobra.Command {
	var run string
	var engines []string
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove every container and network hadrill created (after a crash)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(engines) > 0 {
				r, err := cluster.CleanupEngines(cmd.Context(), run, engines)
				fmt.Fprintf(os.Stdout, "removed %d containers, %d networks, %d build leftovers, %d swarms hadrill created\n", r.Containers, r.Networks, r.Images, r.Swarms)
				if errors.Is(err, cluster.ErrNoDocker) {
					return withCode(exitEnvironment, err)
				}
				return err
			}
			if err := cluster.Available(cmd.Context()); err != nil {
				return withCode(exitEnvironment, err)
			}
			r, err := cluster.Cleanup(cmd.Context(), run)
			fmt.Fprintf(os.Stdout, "removed %d containers, %d networks, %d build leftovers\n", r.Containers, r.Networks, r.Images)
			return err
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "remove only this run's resources (default: every run)")
	cmd.Flags().StringSliceVar(&engines, "engines", nil, "clean these Docker engines (local, docker context names, endpoints) instead of the default one, and dissolve Swarms hadrill created on them")
	return cmd
}
