package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hadrill/hadrill/cluster"
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
		{"image build", fmt.Errorf("get etcd image: %w", cluster.ErrImageBuild), exitEnvironment},
		{"no docker", fmt.Errorf("start: %w", cluster.ErrNoDocker), exitEnvironment},
		{"interrupted build", errors.Join(cluster.ErrImageBuild, context.Canceled), exitInterrupted},
		{"explicit code", withCode(exitBadInput, cluster.ErrImageBuild), exitBadInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(tc.err); got != tc.want {
				t.Errorf("codeOf(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}
