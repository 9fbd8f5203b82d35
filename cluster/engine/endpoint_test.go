package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeContext writes a docker CLI config whose current context is name,
// pointing at host, as `docker context create` and `docker context use` do.
func writeContext(t *testing.T, name, host string) string {
	t.Helper()
	dir := t.TempDir()
	sum := sha256.Sum256([]byte(name))
	meta := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(meta, 0o755); err != nil {
		t.Fatal(err)
	}
	js := `{"Name":"` + name + `","Metadata":{},"Endpoints":{"docker":{"Host":"` + host + `","SkipTLSVerify":false}}}`
	if err := os.WriteFile(filepath.Join(meta, "meta.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"`+name+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestResolveEndpoint(t *testing.T) {
	ctxDir := writeContext(t, "remote", "tcp://127.0.0.1:1")
	cases := []struct {
		name                      string
		host, config, dockerCtx   string
		wantHost, wantSource, err string
	}{
		{name: "DOCKER_HOST wins", host: "unix:///nonexistent", config: ctxDir, wantHost: "unix:///nonexistent", wantSource: "DOCKER_HOST"},
		{name: "current context", config: ctxDir, wantHost: "tcp://127.0.0.1:1", wantSource: "docker context remote"},
		{name: "DOCKER_CONTEXT names a missing context", config: ctxDir, dockerCtx: "nope", err: `read docker context "nope"`},
		{name: "DOCKER_CONTEXT default", config: ctxDir, dockerCtx: "default", wantHost: defaultEndpoint, wantSource: "default socket"},
		{name: "no config", config: t.TempDir(), wantHost: defaultEndpoint, wantSource: "default socket"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", c.host)
			t.Setenv("DOCKER_CONFIG", c.config)
			t.Setenv("DOCKER_CONTEXT", c.dockerCtx)
			ep, err := ResolveEndpoint()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || ep.Host != c.wantHost || ep.Source != c.wantSource {
				t.Fatalf("got %+v %v, want %s from %s", ep, err, c.wantHost, c.wantSource)
			}
		})
	}
}

// TestUnreachableEndpointFailsFast: a context whose engine does not answer
// is an error within the ping timeout, never a fall-back to another engine.
//
// These two refuse at once (no such socket, a closed port), so the error
// must be the refusal, not the ping's deadline: that needs no clock. The
// time is only a hang guard, three ping timeouts, which a ping that obeys
// its own deadline cannot reach on any machine, and a retry loop would.
func TestUnreachableEndpointFailsFast(t *testing.T) {
	for _, ep := range []Endpoint{
		{Host: "unix:///nonexistent", Source: "DOCKER_HOST"},
		{Host: "tcp://127.0.0.1:1", Source: "docker context remote"},
	} {
		began := time.Now()
		err := pingEndpoint(context.Background(), ep)
		took := time.Since(began)
		t.Logf("%s: %v after %s", ep, err, took)
		if err == nil {
			t.Errorf("%s answered", ep)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: waited out the ping timeout (%v), want the refusal", ep, err)
		}
		if took > 3*pingTimeout {
			t.Errorf("%s: failing took %s, more than three %s ping timeouts", ep, took, pingTimeout)
		}
	}
}
