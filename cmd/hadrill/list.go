package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/scenarios"
)

func init() { subcommands = append(subcommands, newListCmd) }

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List built-in scenarios, systems, fault kinds, targets and workloads",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return list(os.Stdout)
		},
	}
}

func list(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SCENARIOS")
	for _, name := range scenarios.Builtins() {
		s, err := scenarios.Builtin(name)
		if err != nil {
			return err
		}
		note := ""
		if k := s.AgentKinds(); len(k) > 0 {
			note = fmt.Sprintf(" [needs the node agent: %v]", k)
		}
		fmt.Fprintf(w, "  %s\t%s%s\n", name, s.Description, note)
	}
	fmt.Fprintln(w, "\nSYSTEMS")
	for _, s := range scenarios.Systems() {
		var opts []string
		for _, o := range s.Options {
			opts = append(opts, o.Name)
		}
		fmt.Fprintf(w, "  %s\t%s (options: %s)\n", s.Name, s.Doc, strings.Join(opts, ", "))
	}
	fmt.Fprintln(w, "\nFAULT KINDS")
	for _, k := range scenarios.FaultKinds() {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", k.Kind, k.Level, k.Doc)
	}
	fmt.Fprintln(w, "\nTARGETS")
	for _, s := range scenarios.Selectors() {
		fmt.Fprintf(w, "  %s\t%s\n", s.Selector, s.Doc)
	}
	fmt.Fprintln(w, "\nWORKLOADS")
	for _, wl := range scenarios.Workloads() {
		fmt.Fprintf(w, "  %s\t%s\n", wl.Kind, wl.Doc)
	}
	return w.Flush()
}
