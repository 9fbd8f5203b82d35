package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
)

// Exit codes of the CLI contract (docs/DESIGN.md).
const (
	exitOK          = 0
	exitFailed      = 1 // a target missed or a check failed
	exitBadInput    = 2
	exitEnvironment = 3 // no Docker engine, image build failed
	exitInterrupted = 130
)

// exitError carries an exit code up to main, so that subcommands return
// errors instead of calling os.Exit.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// withCode tags err with an exit code. A nil err gives an error that only
// carries the code (a failed verdict: the summary already said why).
func withCode(code int, err error) error {
	return &exitError{code: code, err: err}
}

// badInput marks a usage or input error (exit 2); nil stays nil.
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return withCode(exitBadInput, err)
}

// codeOf maps an error to the exit code of the CLI contract.
func codeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	if errors.Is(err, engine.ErrNoDocker) || errors.Is(err, image.ErrBuild) {
		// Wherever they surface: the machine, not the input or the
		// system under test.
		return exitEnvironment
	}
	return exitFailed
}

// report prints err to stderr unless it only carries a code.
func report(err error) {
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "hadrill:", err)
}
