package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/drill"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/scenarios"
)

// Exit codes of the CLI contract (docs/DESIGN.md, README, exitCodesHelp). codeOf
// is the one place that maps an outcome to them.
const (
	exitOK          = 0   // every target met
	exitFailed      = 1   // a target missed, a check failed, or the drill aborted
	exitBadInput    = 2   // a bad scenario, flag or run folder
	exitUnknown     = 3   // the environment failed, a check could not decide, no operations
	exitInterrupted = 130 // Ctrl-C before the load ended
)

// exitCodesHelp is the contract of `hadrill run` and `hadrill check`, as
// --help states it.
const exitCodesHelp = `Exit codes:
  0    pass: every target met
  1    fail: a target missed, a check failed, or the drill aborted
  2    bad input: a scenario, a flag, or a run folder that cannot be checked
       (run.json, scenario.yaml or history.jsonl missing or unreadable)
  3    unknown: the environment failed (no Docker engine, an image that would
       not build, nodes that could not reach each other), a check could not
       decide, or the run recorded no operation
  130  interrupted (Ctrl-C) before the load ended, after healing the faults
       and removing the containers. Interrupted after the load ended, a run
       stops settling and reading back, still checks what it recorded, and
       exits with its verdict's code. A second Ctrl-C quits at once (130).`

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
// carries the code.
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

// verdictError is a verdict other than pass, as an error: the summary has
// already said why, so it prints nothing, and codeOf gives its code.
type verdictError struct{ verdict checker.Result }

func (e verdictError) Error() string { return "verdict " + string(e.verdict) }

// verdictErr is nil for a pass (or no verdict), else a verdictError.
func verdictErr(v *results.Verdict) error {
	if v == nil || v.Verdict == checker.Pass {
		return nil
	}
	return verdictError{v.Verdict}
}

// codeOf decides the exit code of an outcome: the one function that does.
// An explicit code wins (withCode); then an interrupt (130); then the
// environment in any of its forms (isEnvironment: 3; the third form, a
// results.EnvFinding recorded during the run, makes the verdict unknown,
// which is 3 below); then bad input (2); then the verdict: unknown is 3,
// fail and aborted are 1; any other error is 1 (the drill went wrong).
func codeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ve verdictError
	switch {
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case isEnvironment(err):
		return exitUnknown
	case errors.Is(err, scenarios.ErrInvalid), errors.Is(err, scenarios.ErrNotFound), errors.Is(err, drill.ErrBadRun):
		return exitBadInput
	case errors.As(err, &ve) && ve.verdict == checker.Unknown:
		return exitUnknown
	}
	return exitFailed
}

// isEnvironment reports whether err says the machine failed: every such
// error, from the runner or the Docker backend, matches the one
// engine.ErrEnvironment.
func isEnvironment(err error) bool { return errors.Is(err, engine.ErrEnvironment) }

// worse ranks two exit codes for a suite of runs: an interrupt, then bad
// input, then a failure, then unknown (as verdicts merge: fail > unknown),
// then pass.
func worse(a, b int) int {
	rank := func(c int) int {
		switch c {
		case exitInterrupted:
			return 4
		case exitBadInput:
			return 3
		case exitFailed:
			return 2
		case exitUnknown:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// report prints err to stderr (errorLines) unless it only carries a code.
func report(err error) { writeError(os.Stderr, err) }

func writeError(w io.Writer, err error) {
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return
	}
	var ve verdictError
	if errors.As(err, &ve) && err.Error() == ve.Error() {
		return
	}
	for _, line := range errorLines(err) {
		fmt.Fprintln(w, line)
	}
}

// errorLines renders err for machines as well as people: every line about a
// file starts with the file (file:line: or file:), as compilers write it,
// and every other line with "hadrill:", including the second and later
// lines of a multi-line error, so that CI systems and editors match each.
func errorLines(err error) []string {
	files := errorFiles(err)
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if aboutFile(line, files) {
			out = append(out, line)
			continue
		}
		out = append(out, "hadrill: "+line)
	}
	return out
}

// aboutFile reports whether line starts with one of files and a colon.
func aboutFile(line string, files []string) bool {
	for _, f := range files {
		if rest, ok := strings.CutPrefix(line, f); ok && strings.HasPrefix(rest, ":") {
			return true
		}
	}
	return false
}

// errorFiles lists the files that errors in err's tree are about: a
// scenario's field errors, a history line, a run folder's file, or any
// error with a FilePath method.
func errorFiles(err error) []string {
	var files []string
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		switch e := err.(type) {
		case scenarios.ValidationErrors:
			for _, fe := range e {
				if fe.File != "--set" && fe.File != "" {
					files = append(files, fe.File)
				}
			}
		case scenarios.FieldError:
			files = append(files, e.File)
		case *history.LineError:
			files = append(files, e.File)
		case interface{ FilePath() string }:
			files = append(files, e.FilePath())
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return files
}
