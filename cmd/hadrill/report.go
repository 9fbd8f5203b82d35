package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/drillreport"
)

func init() { subcommands = append(subcommands, newReportCmd) }

// reportFlags are the flags of `hadrill report`.
type reportFlags struct {
	out             string
	since           string
	failuresPerYear float64
	years           float64
	seed            uint64
}

func newReportCmd() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report RESULTS... -o FILE",
		Short: "Drill report over many runs: pass rates, RTO/RPO trends and a projection of yearly downtime",
		Long: `Report walks the given folders for run folders (those holding verdict.json;
the latest links are not followed, so nothing counts twice) and writes a drill
report: per scenario, runs and pass rate, RTO p50/p95/max, lost writes,
availability, a trend plot, and links to the worst runs; then a Monte Carlo
projection of yearly downtime and lost writes at --failures-per-year, with its
assumptions stated. The report is HTML, or Markdown when -o ends in .md.
Exit codes: 0 the report was written, 2 bad input (no runs found, a bad
--since or -o).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return drillReport(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "report file: .html, or .md for Markdown (required)")
	fl.StringVar(&f.since, "since", "", "only runs started at or after this date (2006-01-02 or RFC 3339)")
	fl.Float64Var(&f.failuresPerYear, "failures-per-year", 1, "assumed rate of real failures of each drilled kind, for the projection")
	fl.Float64Var(&f.years, "years", 1, "horizon of the projection, in years")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the Monte Carlo projection")
	return cmd
}

// drillReport finds the runs, builds the report and prints a summary.
func drillReport(stdout, stderr io.Writer, paths []string, f reportFlags) error {
	opt, err := f.options()
	if err != nil {
		return badInput(err)
	}
	runs, err := results.FindRuns(paths...)
	if err != nil {
		return badInput(err)
	}
	if !opt.Since.IsZero() {
		runs = results.RunsSince(runs, opt.Since)
		if len(runs) == 0 {
			return badInput(fmt.Errorf("%w since %s", results.ErrNoRuns, f.since))
		}
	}
	fmt.Fprintf(stderr, "hadrill: %d runs found; simulating %d periods per scenario\n", len(runs), drillreport.DefaultSimulations)
	d := drillreport.Build(runs, opt)
	if err := drillreport.Write(f.out, d); err != nil {
		return err
	}
	for _, s := range d.Scenarios {
		fmt.Fprintf(stdout, "%s: %d runs, pass rate %.1f%%, RTO p50 %s p95 %s max %s, lost writes %g, projected downtime p95 %.2f min per %g year(s)\n",
			s.Scenario, len(s.Runs), 100*s.PassRate(), secs(s.RTOP50), secs(s.RTOP95), secs(s.RTOMax),
			s.LostTotal, s.Projection.DowntimeMinutes.P95, opt.Years)
	}
	fmt.Fprintf(stdout, "wrote %s\n", f.out)
	return nil
}

// options validates the flags into drill options.
func (f reportFlags) options() (drillreport.Options, error) {
	opt := drillreport.Options{FailuresPerYear: f.failuresPerYear, Years: f.years, Seed: f.seed}
	switch {
	case f.out == "":
		return opt, errors.New("-o FILE is required (.html, or .md for Markdown)")
	case !(f.failuresPerYear >= 0) || math.IsInf(f.failuresPerYear, 0):
		return opt, fmt.Errorf("--failures-per-year must be a number at least 0, got %g", f.failuresPerYear)
	case !(f.years > 0) || math.IsInf(f.years, 0):
		return opt, fmt.Errorf("--years must be a number above 0, got %g", f.years)
	}
	if f.since != "" {
		t, err := parseSince(f.since)
		if err != nil {
			return opt, err
		}
		opt.Since = t
	}
	return opt, nil
}

// parseSince reads a --since date: a day (UTC), or an RFC 3339 time.
func parseSince(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a date like 2026-01-31 or an RFC 3339 time", s)
}

// secs prints seconds for the summary line.
func secs(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "unbounded"
	case math.IsNaN(v):
		return "-"
	}
	return fmt.Sprintf("%.3fs", v)
}
