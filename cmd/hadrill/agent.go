package main

import (
	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/faults/agent"
)

func init() { subcommands = append(subcommands, newAgentCmd) }

// newAgentCmd is the node agent's entry point. hadrill copies its own
// (static) binary into every node container and runs it there as
// `hadrill agent ... -- <the image's command>`; users do not run it by hand.
func newAgentCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "agent [flags] -- COMMAND...",
		Short:              "Run the node agent inside a node container (started by hadrill itself)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := agent.Main(cmd.Context(), args); code != 0 {
				return withCode(code, nil)
			}
			return nil
		},
	}
}
