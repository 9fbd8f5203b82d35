package engine

import (
	"errors"
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
