package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/drill"
	"github.com/hadrill/hadrill/scenarios"
)

// TestExitCodes maps errors to the CLI's exit codes: a failed image build or
// a missing engine is the environment (3) wherever it surfaces, an interrupt
// stays an interrupt even during a build.
func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"plain", errors.New("boom"), exitFailed},
		{"image build", fmt.Errorf("get etcd image: %w", image.ErrBuild), exitEnvironment},
		{"no docker", fmt.Errorf("start: %w", engine.ErrNoDocker), exitEnvironment},
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

// TestRunErrorInterruptedAfterTheLoad: a run that ended without error but
// whose context was cancelled (Ctrl-C during the final read, teardown or
// check) exits 130, not with its verdict's code; an uninterrupted one
// keeps its own.
func TestRunErrorInterruptedAfterTheLoad(t *testing.T) {
	live := context.Background()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"complete, not interrupted", live, nil, exitOK},
		{"complete, interrupted after the load", stopped, nil, exitInterrupted},
		{"interrupted during the load", stopped, fmt.Errorf("run interrupted: %w", context.Canceled), exitInterrupted},
		{"interrupted, and the environment failed too", stopped, fmt.Errorf("teardown: %w", drill.ErrEnvironment), exitInterrupted},
		{"interrupted, and a metrics export failed", stopped, errors.New("push metrics: refused"), exitInterrupted},
		{"environment", live, fmt.Errorf("verify: %w", drill.ErrEnvironment), exitEnvironment},
		{"invalid scenario", live, fmt.Errorf("load: %w", scenarios.ErrInvalid), exitBadInput},
		{"other", live, errors.New("boom"), exitFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(runError(tc.ctx, tc.err)); got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
}
