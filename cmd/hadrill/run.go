package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/hadrill/hadrill/drill"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/metrics"
	"github.com/hadrill/hadrill/scenarios"
)

func init() { subcommands = append(subcommands, newRunCmd) }

// runFlags are the flags of `hadrill run`.
type runFlags struct {
	results string
	seed    int64
	repeat  int
	junit   string
	sets    []string
	metrics metricsFlags
	// parallel is how many runs go at once; engines spreads them over
	// Docker engines (see run_parallel.go).
	parallel int
	engines  []string
}

// metricsFlags say where the run's Prometheus metrics go.
type metricsFlags struct {
	addr, pushgateway, file string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO...",
		Short: "Run drills: built-in scenario names or scenario files",
		Long: `Run builds each scenario's cluster in Docker, drives its workload while
injecting its faults, then checks the recorded history and writes a result
folder under --results. With several runs, the exit code is the worst of
theirs: interrupted, bad input, fail, then unknown.

` + exitCodesHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenarios(cmd.Context(), cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.results, "results", "results", "results root folder")
	fl.Int64Var(&f.seed, "seed", 0, "seed for faults and the operation mix (default: the scenario's, or random)")
	fl.IntVar(&f.repeat, "repeat", 1, "run each scenario N times with seeds derived from the first")
	fl.StringVar(&f.junit, "junit", "", "also write one JUnit file covering every run")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario field, e.g. --set cluster.image=hadrill/hakv:v2 (repeatable)")
	fl.StringVar(&f.metrics.addr, "metrics-addr", "", "serve live Prometheus metrics on this address during the run, e.g. 127.0.0.1:9477")
	fl.StringVar(&f.metrics.pushgateway, "pushgateway", "", "push the final metrics to this Prometheus pushgateway URL")
	fl.IntVar(&f.parallel, "parallel", 1, "run up to N scenarios at once, with one summary and one JUnit file (default <results>/junit.xml)")
	fl.StringSliceVar(&f.engines, "engines", nil, "spread the runs over these Docker engines (local, docker context names, endpoints): run i goes on engine i mod N, unless its scenario sets cluster.engines")
	fl.StringVar(&f.metrics.file, "metrics-file", "", "write the final metrics in node_exporter textfile format (name it *.prom)")
	return cmd
}

// runScenarios loads every scenario first, so that a typo in the last one
// fails before the first cluster starts, then runs them in order, or
// --parallel at a time.
func runScenarios(ctx context.Context, cmd *cobra.Command, args []string, f runFlags) error {
	if f.repeat < 1 {
		return badInput(fmt.Errorf("--repeat must be at least 1, got %d", f.repeat))
	}
	if f.parallel < 1 {
		return badInput(fmt.Errorf("--parallel must be at least 1, got %d", f.parallel))
	}
	var list []*scenarios.Scenario
	for _, a := range args {
		s, err := loadScenario(a, f.sets)
		if err != nil {
			return err
		}
		if cmd.Flags().Changed("seed") {
			seed := f.seed
			s.Seed = &seed
		}
		list = append(list, s)
	}
	opt := drill.RunOptions{Results: f.results, AgentBinary: self()}
	jobs, err := expandRuns(list, f)
	if err != nil {
		return err
	}
	if f.parallel > 1 {
		return runParallel(ctx, jobs, opt, f)
	}
	var verdicts []*results.Verdict
	code := exitOK
	for _, run := range jobs {
		v, err := runOne(ctx, run, opt, f.metrics, os.Stdout, os.Stderr)
		if v != nil {
			verdicts = append(verdicts, v)
		}
		report(err)
		code = worse(code, codeOf(err))
		if stopsSuite(err) {
			// Nothing more can run: stop here.
			break
		}
	}
	if err := writeJUnit(f.junit, verdicts); err != nil {
		return withCode(worse(code, exitFailed), err) // the JUnit file is part of the result
	}
	return exitWith(code)
}

// exitWith is an error carrying only code (nil for 0): the runs' own
// errors were already reported.
func exitWith(code int) error {
	if code == exitOK {
		return nil
	}
	return withCode(code, nil)
}

// stopsSuite reports whether no later run of the suite can go: the user
// interrupted, or the machine failed (the same engine would fail the next).
func stopsSuite(err error) bool {
	return codeOf(err) == exitInterrupted || isEnvironment(err)
}

// runOne runs one scenario with a progress line and prints its summary. Its
// error says everything the exit code needs (runError): the run's own
// error and a verdict other than pass.
func runOne(ctx context.Context, s *scenarios.Scenario, opt drill.RunOptions, mf metricsFlags, stdout, stderr io.Writer) (*results.Verdict, error) {
	m := metrics.New(s.Name)
	if mf.addr != "" {
		mctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := m.Serve(mctx, mf.addr); err != nil {
			return nil, badInput(fmt.Errorf("serve metrics on %s: %w", mf.addr, err))
		}
	}
	opt.Observer = m
	p := newProgress(stderr, s.Name)
	opt.Progress = p.update
	out, err := drill.Run(ctx, s, opt)
	p.done()
	if v := verdictOf(out); v != nil {
		err = errors.Join(err, exportMetrics(context.WithoutCancel(ctx), m, v, mf))
	}
	if out != nil && out.Verdict != nil {
		printSummary(stdout, out.Dir.Path, out.Verdict)
	} else if out != nil {
		fmt.Fprintf(stdout, "%s: no verdict; partial results in %s\n", s.Name, out.Dir.Path)
	}
	return verdictOf(out), runError(ctx, out, err, stderr)
}

// runError turns a run's outcome into the error codeOf reads, following the
// Ctrl-C rule of exitCodesHelp. Interrupted before the load ended: 130,
// whatever else went wrong on the way out (a teardown error, a metrics
// export). Interrupted after the load ended: the run cut its settle and
// final read short but checked what it recorded, and the verdict's code
// stands; the interrupt is a note on stderr. Otherwise the run's error and
// its verdict, joined: codeOf ranks them.
func runError(ctx context.Context, out *drill.Outcome, err error, stderr io.Writer) error {
	interrupted := ctx.Err() != nil || errors.Is(err, context.Canceled)
	switch {
	case interrupted && (out == nil || !out.LoadEnded):
		// The interrupt is in the error (context.Canceled): codeOf gives
		// 130 whatever else it holds.
		return fmt.Errorf("interrupted before the load ended: faults healed, containers removed, partial results kept: %w", errors.Join(err, ctx.Err()))
	case interrupted && out.Verdict != nil:
		msg := "interrupted after the load ended: the checks ran on what was recorded; the verdict gives the exit code"
		if err != nil {
			msg += "\n" + err.Error()
		}
		writeError(stderr, errors.New(msg))
		return verdictErr(out.Verdict)
	case interrupted:
		// After the load, but no verdict: nothing says how the run went.
		return fmt.Errorf("interrupted after the load, with no verdict: %w", errors.Join(err, ctx.Err()))
	}
	return errors.Join(err, verdictErr(verdictOf(out)))
}

// exportMetrics records the verdict in the metrics and sends them where the
// flags ask.
func exportMetrics(ctx context.Context, m *metrics.Exporter, v *results.Verdict, mf metricsFlags) error {
	m.Finish(v)
	var errs []error
	if mf.pushgateway != "" {
		errs = append(errs, m.Push(ctx, mf.pushgateway, "hadrill"))
	}
	if mf.file != "" {
		errs = append(errs, m.WriteTextfile(mf.file))
	}
	return errors.Join(errs...)
}

func verdictOf(o *drill.Outcome) *results.Verdict {
	if o == nil {
		return nil
	}
	return o.Verdict
}

// loadScenario resolves a built-in name or a file and applies --set
// overrides; every problem is bad input.
func loadScenario(arg string, sets []string) (*scenarios.Scenario, error) {
	s, err := scenarios.Resolve(arg)
	if err != nil {
		return nil, badInput(err)
	}
	for _, a := range sets {
		if err := scenarios.Set(s, a); err != nil {
			return nil, badInput(err)
		}
	}
	return s, nil
}

// self is this executable, which also serves as the node agent.
func self() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}

// writeJUnit writes one JUnit document over every run, when asked.
func writeJUnit(path string, vs []*results.Verdict) error {
	if path == "" || len(vs) == 0 {
		return nil
	}
	var suites []results.JUnitSuite
	for _, v := range vs {
		suites = append(suites, results.Suite(v))
	}
	b, err := results.MarshalJUnit(suites...)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}
