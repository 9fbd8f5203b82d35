package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/scenarios"
)

func init() { subcommands = append(subcommands, newValidateCmd) }

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files against the schema, with no side effects",
		Long: `Validate checks each scenario file (or built-in name) against the schema,
the limits (nodes, rate, duration, faults, file size; see hadrill schema
scenario) and the systems' declarations, and prints every problem as
file:line: field: message.

Exit codes: 0 every file is valid, 2 one is not.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			var errs []error
			for _, a := range args {
				if _, err := scenarios.Resolve(a); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(os.Stdout, "%s: ok\n", a)
			}
			return badInput(errors.Join(errs...))
		},
	}
}
