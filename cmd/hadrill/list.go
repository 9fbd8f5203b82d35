package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/hadrill/hadrill/scenarios"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/systems/registry"
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
	for _, s := range registry.All() {
		listSystem(w, s)
	}
	fmt.Fprintln(w, "\nFAULT KINDS")
	for _, k := range scenarios.FaultKinds() {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", k.Name, k.Level, k.Doc)
		if p := k.ParamsDoc(); p != "" {
			fmt.Fprintf(w, "  \t\tparameters: %s\n", p)
		}
		if k.Target != kind.TargetNodes {
			fmt.Fprintf(w, "  \t\ttarget: %s\n", k.Target.Doc())
		}
		if r := k.RulesDoc(); r != "" {
			fmt.Fprintf(w, "  \t\t%s\n", r)
		}
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

// listSystem prints a system: what it is, its roles, its client, and each
// option with its default and meaning.
func listSystem(w io.Writer, s systems.System) {
	fmt.Fprintf(w, "  %s\t%s\n", s.Name(), s.Doc())
	roles := []string{fmt.Sprintf("%s (n1..nN, port %d)", cluster.DataRole, s.ClientPort())}
	if r, ok := s.(cluster.Roler); ok {
		for _, role := range r.Roles(nil) {
			roles = append(roles, fmt.Sprintf("%s (%s1..%s%d, port %d)", role.Name, role.Prefix, role.Prefix, role.Count, role.Port))
		}
	}
	fmt.Fprintf(w, "  \troles: %s\n", strings.Join(roles, ", "))
	b := s.Nodes(nil)
	count := fmt.Sprintf("%d to %d", b.Min, b.Max)
	switch {
	case b.Max == 0:
		count = fmt.Sprintf("at least %d", b.Min)
	case b.Min == b.Max:
		count = fmt.Sprintf("exactly %d", b.Min)
	}
	fmt.Fprintf(w, "  \tnodes: %s with the default options (%s)\n", count, b.Why)
	fmt.Fprintf(w, "  \tclient: %s\n", s.ClientDoc())
	for _, o := range s.Options() {
		vals := ""
		if len(o.Values) > 0 {
			vals = " [" + strings.Join(o.Values, "|") + "]"
		}
		fmt.Fprintf(w, "  \t  %s=%s%s: %s\n", o.Name, o.Default, vals, o.Doc)
	}
}
