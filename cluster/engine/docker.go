package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// ErrNoDocker is matched (errors.Is) by every error that means no Docker
// engine could be reached. It is an environment failure (ErrEnvironment).
var ErrNoDocker = Environmental("no Docker engine reachable")

// noDockerError says where the engine was looked for and why it failed.
type noDockerError struct {
	host string
	err  error
}

func (e *noDockerError) Error() string {
	return fmt.Sprintf("no Docker engine reachable at %s: %v", e.host, e.err)
}

func (e *noDockerError) Unwrap() []error { return []error{ErrNoDocker, e.err} }

var prepareOnce sync.Once

// prepare runs before the first testcontainers call. It resolves the
// engine endpoint once (ResolveEndpoint). Ryuk cannot start
// without a registry, and the value must be exactly "true". testcontainers'
// default logger writes banners to stderr; hadrill's progress line owns the
// terminal, so its messages go to slog at debug level instead.
func prepare() {
	prepareOnce.Do(func() {
		if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
			os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		}
		tclog.SetDefault(slogPrintf{})
		resolved, resolvedErr = ResolveEndpoint()
		if resolvedErr == nil {
			// testcontainers' own discovery reads DOCKER_HOST first; without
			// it, it would fall back from a dead endpoint to the local socket.
			os.Setenv("DOCKER_HOST", resolved.Host)
		}
	})
}

// slogPrintf adapts testcontainers' Printf logger to slog at debug level.
// It is testcontainers' default logger once Connect has run.
type slogPrintf struct{}

// Printf logs one testcontainers message at debug level.
func (slogPrintf) Printf(format string, v ...any) {
	slog.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "testcontainers")
}

// resolved is the endpoint prepare chose, or why it could not choose one.
var (
	resolved    Endpoint
	resolvedErr error
)

// plainCause replaces a client's message about a unix socket that simply
// does not exist with that plain fact.
func plainCause(ep Endpoint, err error) error {
	if path, ok := strings.CutPrefix(ep.Host, "unix://"); ok {
		if _, serr := os.Stat(path); serr != nil {
			return serr
		}
	}
	return err
}

// Connect opens a Docker client on the engine ResolveEndpoint chose, the
// same one testcontainers uses (prepare exports it as DOCKER_HOST), so the
// containers hadrill inspects and the ones testcontainers creates are on the
// same engine. It pings the engine first, so a dead or mistyped endpoint is
// ErrNoDocker naming it here, within seconds, and not a drill on another
// engine or a confusing failure later.
func Connect(ctx context.Context) (*testcontainers.DockerClient, error) {
	prepare()
	if resolvedErr != nil {
		return nil, &noDockerError{host: "the configured endpoint", err: resolvedErr}
	}
	ep := resolved
	if err := pingEndpoint(ctx, ep); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // interrupted, not unreachable
		}
		return nil, &noDockerError{host: ep.String(), err: plainCause(ep, err)}
	}
	cli, err := newDockerClient(ctx, ep)
	if cerr := ctx.Err(); cerr != nil {
		// Interrupted meanwhile: that, not a failed open, is the news.
		if cli != nil {
			cli.Close()
		}
		return nil, cerr
	}
	if err != nil {
		return nil, &noDockerError{host: ep.String(), err: plainCause(ep, err)}
	}
	if got := cli.DaemonHost(); got != ep.Host {
		cli.Close()
		return nil, &noDockerError{host: ep.String(), err: fmt.Errorf("testcontainers chose %s instead", got)}
	}
	return cli, nil
}

// newDockerClient opens testcontainers' client on ep. The first one in a
// process also asks the engine for its socket, once for the process, and
// testcontainers panics when that request fails, as it does when a Ctrl-C
// cancels it (seen in `make soak`). So the request does not carry the
// caller's cancellation, only a bound of its own (the engine answered a
// ping a moment ago); the caller checks its context afterwards. A panic
// that still happens becomes an error.
func newDockerClient(ctx context.Context, ep Endpoint) (cli *testcontainers.DockerClient, err error) {
	defer func() {
		if p := recover(); p != nil {
			cli, err = nil, fmt.Errorf("open a client: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	return testcontainers.NewDockerClientWithOpts(ctx, client.WithHost(ep.Host))
}

// Available reports whether a Docker engine is reachable. The error wraps
// ErrNoDocker and says where the engine was looked for, so `hadrill run` can
// stop before building anything and exit 3 with a message the user can act
// on.
func Available(ctx context.Context) error {
	cli, err := Connect(ctx)
	if err != nil {
		return err
	}
	return cli.Close()
}
