package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/drill"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/scenarios"
)

// TestExitCodes maps outcomes to the CLI's exit codes (codeOf, the one
// function that does): every form of environment failure is 3 wherever it
// surfaces, an unknown verdict is 3, a failed one 1, a run folder that
// cannot be checked 2, and an interrupt stays an interrupt even during a
// build.
func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"plain", errors.New("boom"), exitFailed},
		{"drill environment", fmt.Errorf("verify: %w", engine.ErrEnvironment), exitUnknown},
		{"bad run folder", &drill.RunFileError{Path: "run/run.json", Err: errors.New("missing")}, exitBadInput},
		{"invalid scenario", fmt.Errorf("load: %w", scenarios.ErrInvalid), exitBadInput},
		{"verdict fail", verdictErr(&results.Verdict{Verdict: checker.Fail}), exitFailed},
		{"verdict unknown", verdictErr(&results.Verdict{Verdict: checker.Unknown}), exitUnknown},
		{"verdict pass", verdictErr(&results.Verdict{Verdict: checker.Pass}), exitOK},
		{"image build", fmt.Errorf("get etcd image: %w", image.ErrBuild), exitUnknown},
		{"no docker", fmt.Errorf("start: %w", engine.ErrNoDocker), exitUnknown},
		{"interrupted build", errors.Join(image.ErrBuild, context.Canceled), exitInterrupted},
		{"explicit code", withCode(exitBadInput, image.ErrBuild), exitBadInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(tc.err); got != tc.want {
				t.Errorf("codeOf(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestRunErrorCtrlC follows the Ctrl-C rule of exitCodesHelp: 130 when
// interrupted before the load ended, whatever else went wrong; after the
// load, the verdict's code. (Before: 130 in every phase, while the README
// promised it only before the load's end.)
func TestRunErrorCtrlC(t *testing.T) {
	live := context.Background()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	pass := &results.Verdict{Verdict: checker.Pass}
	fail := &results.Verdict{Verdict: checker.Fail}
	unknown := &results.Verdict{Verdict: checker.Unknown}
	during := &drill.Outcome{Verdict: pass}
	after := func(v *results.Verdict) *drill.Outcome { return &drill.Outcome{Verdict: v, LoadEnded: true} }
	canceled := fmt.Errorf("run interrupted: %w", context.Canceled)
	cases := []struct {
		name string
		ctx  context.Context
		out  *drill.Outcome
		err  error
		want int
	}{
		{"complete, pass", live, after(pass), nil, exitOK},
		{"complete, fail", live, after(fail), nil, exitFailed},
		{"complete, unknown (an environment finding)", live, after(unknown), nil, exitUnknown},
		{"interrupted during the load", stopped, during, canceled, exitInterrupted},
		{"interrupted before the cluster started", stopped, nil, canceled, exitInterrupted},
		{"interrupted during the load, and the environment failed too", stopped, during, errors.Join(canceled, engine.ErrEnvironment), exitInterrupted},
		{"interrupted after the load, pass", stopped, after(pass), nil, exitOK},
		{"interrupted in the settle phase, fail", stopped, after(fail), canceled, exitFailed},
		{"interrupted after the load, no verdict", stopped, after(nil), canceled, exitInterrupted},
		{"environment", live, nil, fmt.Errorf("verify: %w", engine.ErrEnvironment), exitUnknown},
		{"invalid scenario", live, nil, fmt.Errorf("load: %w", scenarios.ErrInvalid), exitBadInput},
		{"other", live, nil, errors.New("boom"), exitFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(runError(tc.ctx, tc.out, tc.err, io.Discard)); got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
}

// TestErrorLines: every line about a file starts with it, every other line
// with "hadrill:", in every line of a joined or multi-line error.
func TestErrorLines(t *testing.T) {
	verr := scenarios.ValidationErrors{
		{File: "a.yaml", Line: 3, Path: "cluster.nodes", Msg: "must be at least 1"},
		{File: "a.yaml", Line: 5, Path: "workload.clients", Msg: "must be at least 1"},
		{File: "--set", Path: "workload.rate", Msg: "bad rate"},
	}
	err := errors.Join(verr, errors.New("no such scenario \"x\""), fmt.Errorf("panicked: boom\nstack line"),
		&drill.RunFileError{Path: "run/run.json", Err: errors.New("missing")})
	want := []string{
		"a.yaml:3: cluster.nodes: must be at least 1",
		"a.yaml:5: workload.clients: must be at least 1",
		"hadrill: --set: workload.rate: bad rate",
		`hadrill: no such scenario "x"`,
		"hadrill: panicked: boom",
		"hadrill: stack line",
		"run/run.json: missing",
	}
	if got := errorLines(err); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestWorseRanksASuite: a suite exits with its worst run's code, ranked as
// verdicts merge (fail above unknown), below bad input and an interrupt.
func TestWorseRanksASuite(t *testing.T) {
	cases := []struct{ a, b, want int }{
		{exitOK, exitUnknown, exitUnknown},
		{exitUnknown, exitFailed, exitFailed},
		{exitFailed, exitUnknown, exitFailed},
		{exitFailed, exitBadInput, exitBadInput},
		{exitBadInput, exitInterrupted, exitInterrupted},
		{exitInterrupted, exitFailed, exitInterrupted},
		{exitOK, exitOK, exitOK},
	}
	for _, tc := range cases {
		if got := worse(tc.a, tc.b); got != tc.want {
			t.Errorf("worse(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
