package drill

import (
	"errors"
	"io"
	"testing"

	"github.com/hadrill/hadrill/cluster/engine"
)

// TestEnvErrorIsEnvironmentAndReadsPlainly: the CLI maps an environment
// error to exit 3 by errors.Is, and the user reads one plain line.
func TestEnvErrorIsEnvironmentAndReadsPlainly(t *testing.T) {
	err := envError("start cluster", io.ErrUnexpectedEOF)
	if !errors.Is(err, engine.ErrEnvironment) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("errors.Is fails on %v", err)
	}
	if got, want := err.Error(), "start cluster: unexpected EOF"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	if errors.Is(io.EOF, engine.ErrEnvironment) {
		t.Fatal("a plain error matched ErrEnvironment")
	}
}
