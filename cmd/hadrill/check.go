package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/drill"
	"github.com/hadrill/hadrill/results"
)

func init() { subcommands = append(subcommands, newCheckCmd) }

func newCheckCmd() *cobra.Command {
	var opt drill.CheckOptions
	cmd := &cobra.Command{
		Use:   "check RUNDIR",
		Short: "Re-check a saved run offline and compare with its recorded verdict",
		Long: `Check reads a run folder (scenario.yaml, run.json, history.jsonl,
faults.jsonl) and runs every check again, exactly as the run did. It prints
the verdict and compares it with the one the run recorded (verdict.json),
saying where they differ. It rewrites verdict.json, junit.xml, the report and
the summary only with --write. It works on the partial history of a crashed or
interrupted run; a folder missing run.json, scenario.yaml or history.jsonl, or
with one that cannot be read, is refused (exit 2) naming the file, never
passed. An empty history is unknown (exit 3). A check interrupted (Ctrl-C)
writes nothing and exits 130.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return checkRun(cmd, args[0], opt)
		},
	}
	cmd.Flags().DurationVar(&opt.LinearizabilityTimeout, "linearizability-timeout", 0, "bound on the linearizability search (default 60s); a timeout gives unknown")
	cmd.Flags().BoolVar(&opt.Write, "write", false, "rewrite the run's verdict.json, junit.xml, report and summary with this check's results")
	return cmd
}

// checkRun re-checks dir, prints the verdict and how it compares with the
// recorded one, and returns the verdict's exit code.
func checkRun(cmd *cobra.Command, dir string, opt drill.CheckOptions) error {
	// Read the recorded verdict first: with --write the check replaces it.
	recorded, recErr := results.ReadVerdict(dir)
	opt.Warnings = cmd.ErrOrStderr() // file:line: warning: ..., as errors read
	v, err := drill.CheckRun(cmd.Context(), dir, opt)
	if err != nil {
		return err // codeOf: a run folder that cannot be checked is 2
	}
	out := cmd.OutOrStdout()
	printSummary(out, dir, v)
	switch {
	case errors.Is(recErr, os.ErrNotExist):
		fmt.Fprintf(out, "  recorded verdict: none (no %s)\n", results.VerdictFile)
	case recErr != nil:
		fmt.Fprintf(out, "  recorded verdict: none readable (%v)\n", recErr)
	default:
		printComparison(out, recorded, v)
	}
	if opt.Write {
		fmt.Fprintf(out, "  rewrote %s, %s, the report and the summary\n", results.VerdictFile, results.JUnitFile)
	}
	return verdictErr(v)
}

// printComparison says whether this check agrees with the verdict the run
// recorded, and where it does not.
func printComparison(w io.Writer, recorded, now *results.Verdict) {
	diffs := verdictDiffs(recorded, now)
	if len(diffs) == 0 {
		fmt.Fprintf(w, "  recorded verdict: %s, the same\n", recorded.Verdict)
		return
	}
	fmt.Fprintf(w, "  recorded verdict: %s; this check DIFFERS:\n", recorded.Verdict)
	for _, d := range diffs {
		fmt.Fprintf(w, "    %s\n", d)
	}
}

// verdictDiffs lists where two verdicts of the same run disagree: the
// verdict and each check's result.
func verdictDiffs(recorded, now *results.Verdict) []string {
	var out []string
	if recorded.Verdict != now.Verdict {
		out = append(out, fmt.Sprintf("verdict: recorded %s, now %s", recorded.Verdict, now.Verdict))
	}
	names := make([]string, 0, len(recorded.Checks)+len(now.Checks))
	for n := range recorded.Checks {
		names = append(names, n)
	}
	for n := range now.Checks {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		r, rok := recorded.Checks[n]
		c, cok := now.Checks[n]
		switch {
		case !rok:
			out = append(out, fmt.Sprintf("%s: not recorded, now %s", n, c.Result))
		case !cok:
			out = append(out, fmt.Sprintf("%s: recorded %s, now absent", n, r.Result))
		case r.Result != c.Result:
			out = append(out, fmt.Sprintf("%s: recorded %s, now %s", n, r.Result, c.Result))
		}
	}
	return out
}
