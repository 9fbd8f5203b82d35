package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/scenarios"
)

func init() { subcommands = append(subcommands, newValidateCmd) }

// limitsHelp states the scenario limits, from their declaration.
func limitsHelp() string {
	return fmt.Sprintf(`Limits: cluster.nodes at most %d (or the system's own maximum), workload.rate
at most %s, duration at most %s, at most %d faults, files at most %d bytes.`,
		scenarios.MaxNodes, scenarios.Rate(scenarios.MaxRate), scenarios.Duration(scenarios.MaxDuration),
		scenarios.MaxFaults, scenarios.MaxFileSize)
}

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files against the schema, with no side effects",
		Long: `Validate checks each scenario file (or built-in name) against the schema,
the limits below and the systems' declarations, and prints every problem as
file:line: field: message.

` + limitsHelp() + `

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
