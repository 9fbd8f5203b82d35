package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/hadrill/hadrill/drill"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/scenarios"
)

// expandRuns turns the scenarios into the list of runs: each scenario
// --repeat times with seeds derived from its first, and, with --engines, run
// i placed on engine i mod N unless its scenario lists engines itself.
func expandRuns(list []*scenarios.Scenario, f runFlags) ([]*scenarios.Scenario, error) {
	var runs []*scenarios.Scenario
	for _, s := range list {
		base := s.EnsureSeed()
		for i := 0; i < f.repeat; i++ {
			seed := base
			if i > 0 {
				seed = scenarios.DeriveSeed(base, i)
			}
			run := *s
			if len(f.engines) > 0 && len(s.Cluster.Engines) == 0 {
				e := f.engines[len(runs)%len(f.engines)]
				if err := scenarios.Set(&run, "cluster.engines=["+e+"]"); err != nil {
					return nil, badInput(fmt.Errorf("place %s on engine %s: %w", s.Name, e, err))
				}
			}
			run.Seed = &seed
			runs = append(runs, &run)
		}
	}
	return runs, nil
}

// lockedWriter serialises writes from runs going at once, and is not a
// terminal, so each run's progress comes as plain lines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// runParallel runs up to --parallel runs at once. Each summary is printed
// whole when its run ends; one JUnit file covers them all (--junit, or
// <results>/junit.xml). The exit code is the worst of the runs' (worse):
// interrupted, bad input, fail, then unknown.
func runParallel(ctx context.Context, runs []*scenarios.Scenario, opt drill.RunOptions, f runFlags) error {
	var mu sync.Mutex
	stderr := lockedWriter{&mu, os.Stderr}
	verdicts := make([]*results.Verdict, len(runs))
	errs := make([]error, len(runs))
	sem := make(chan struct{}, f.parallel)
	var wg sync.WaitGroup
	for i, run := range runs {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = fmt.Errorf("%s not started: %w", run.Name, ctx.Err())
				return
			}
			defer func() { <-sem }()
			mf := f.metrics
			mf.addr = "" // one address cannot serve several runs
			var out bytes.Buffer
			verdicts[i], errs[i] = runOne(ctx, run, opt, mf, &out, stderr)
			mu.Lock()
			os.Stdout.Write(out.Bytes())
			mu.Unlock()
		})
	}
	wg.Wait()
	var got []*results.Verdict
	code := exitOK
	for i, v := range verdicts {
		if v != nil {
			got = append(got, v)
		}
		report(errs[i])
		code = worse(code, codeOf(errs[i]))
	}
	junit := f.junit
	if junit == "" {
		junit = filepath.Join(f.results, "junit.xml")
	}
	if err := writeJUnit(junit, got); err != nil {
		return withCode(worse(code, exitFailed), err) // the JUnit file is part of the result
	}
	if len(got) > 0 {
		fmt.Fprintf(os.Stdout, "junit: %s (%d runs)\n", junit, len(got))
	}
	return exitWith(code)
}
