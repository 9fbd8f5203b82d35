package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/compare"
)

func init() { subcommands = append(subcommands, newCompareCmd) }

// compareFlags are the flags of `hadrill compare`.
type compareFlags struct {
	threshold string
	alpha     float64
	out       string
	seed      uint64
}

func newCompareCmd() *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare BASELINE CANDIDATE",
		Short: "Compare runs of the current and the candidate version: did RTO, RPO or correctness get worse?",
		Long: `Compare reads the runs under BASELINE and under CANDIDATE (each a results
folder, a scenario folder, a run folder, or several of them separated by
commas), groups them by scenario (two single-scenario sides are compared
whatever their names), and for RTO, lost writes, availability, write latency
p99, each check's pass rate and the verdict's prints both medians, the difference with a
seeded bootstrap confidence interval, and a Mann–Whitney U test.

A metric regresses when the candidate is worse by more than --threshold of
the baseline (or the metric's absolute floor) and p < --alpha. A check that
passes in every baseline run and fails in any candidate run always regresses,
and so does a check (or the verdict) decided in the baseline and unknown in a
larger share of candidate runs: a candidate that can no longer be checked
has not passed. An aborted run counts as a failed one.
Exit codes: 0 no regression, 1 a regression, 2 bad input (a folder with no
runs, a bad flag).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return compareRuns(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], args[1], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.threshold, "threshold", "10%", "smallest worsening that counts, relative to the baseline median (10% or 0.1)")
	fl.Float64Var(&f.alpha, "alpha", 0.05, "significance level of the rank test (and 1-alpha is the interval's level)")
	fl.StringVarP(&f.out, "output", "o", "", "also write the comparison to FILE (.md for Markdown, else HTML)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the bootstrap")
	return cmd
}

// compareRuns loads both sides, compares and reports; a regression is
// exit 1.
func compareRuns(stdout, stderr io.Writer, baseline, candidate string, f compareFlags) error {
	opt, err := f.options()
	if err != nil {
		return badInput(err)
	}
	base, err := results.FindRuns(splitPaths(baseline)...)
	if err != nil {
		return badInput(fmt.Errorf("baseline: %w", err))
	}
	cand, err := results.FindRuns(splitPaths(candidate)...)
	if err != nil {
		return badInput(fmt.Errorf("candidate: %w", err))
	}
	fmt.Fprintf(stderr, "hadrill: comparing %d baseline runs with %d candidate runs\n", len(base), len(cand))
	c, err := compare.Runs(base, cand, opt)
	if err != nil {
		if errors.Is(err, compare.ErrNothingToCompare) {
			return badInput(err)
		}
		return err
	}
	if err := c.WriteText(stdout); err != nil {
		return fmt.Errorf("print comparison: %w", err)
	}
	if f.out != "" {
		if err := c.WriteFile(f.out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "hadrill: wrote %s\n", f.out)
	}
	if c.Regression {
		// stdout already lists what regressed; stderr gets the one-line reason.
		return withCode(exitFailed, errors.New("the candidate regressed"))
	}
	return nil
}

// options validates the flags.
func (f compareFlags) options() (compare.Options, error) {
	t, err := parseThreshold(f.threshold)
	if err != nil {
		return compare.Options{}, err
	}
	if !(f.alpha > 0 && f.alpha < 1) {
		return compare.Options{}, fmt.Errorf("--alpha must be between 0 and 1, got %g", f.alpha)
	}
	return compare.Options{Threshold: t, Alpha: f.alpha, Seed: f.seed}, nil
}

// parseThreshold reads "10%" or "0.1" as 0.1.
func parseThreshold(s string) (float64, error) {
	v, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	x, err := strconv.ParseFloat(v, 64)
	if err == nil && pct {
		x /= 100
	}
	if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, fmt.Errorf("--threshold %q: want a share like 10%% or 0.1", s)
	}
	return x, nil
}

// splitPaths splits a side given as comma-separated folders.
func splitPaths(arg string) []string {
	var out []string
	for _, p := range strings.Split(arg, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
