package engine

import (
	"errors"
	"fmt"
	"testing"
)

// TestErrNoDockerMessage checks that the CLI can match the error and that it
// says where the engine was looked for.
func TestErrNoDockerMessage(t *testing.T) {
	cause := errors.New("connection refused")
	err := error(&noDockerError{host: "unix:///var/run/docker.sock", err: cause})
	if !errors.Is(err, ErrNoDocker) || !errors.Is(err, cause) {
		t.Errorf("errors.Is fails for %v", err)
	}
	want := "no Docker engine reachable at unix:///var/run/docker.sock: connection refused"
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
}

// TestBackendFailuresAreEnvironment: the CLI gives exit 3 to every error
// that matches ErrEnvironment, so the backend's own failures must match it
// and keep their own sentinel too.
func TestBackendFailuresAreEnvironment(t *testing.T) {
	wrapped := fmt.Errorf("start cluster: %w", ErrNoDocker)
	if !errors.Is(wrapped, ErrEnvironment) || !errors.Is(wrapped, ErrNoDocker) {
		t.Errorf("%v: want both ErrEnvironment and ErrNoDocker", wrapped)
	}
	if errors.Is(errors.New("no Docker engine reachable"), ErrEnvironment) {
		t.Error("an unrelated error with the same text matches ErrEnvironment")
	}
}
