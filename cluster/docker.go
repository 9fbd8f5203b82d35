package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Labels that mark everything hadrill creates in Docker. They, not
// testcontainers' Ryuk reaper (which needs a registry), are how leftovers are
// found after a crash: see Cleanup.
const (
	// LabelRun carries the run ID on containers and networks.
	LabelRun = "hadrill.run"
	// LabelNode carries the node name (n1) on containers.
	LabelNode = "hadrill.node"
	// LabelSystem carries the system name (hakv) on containers.
	LabelSystem = "hadrill.system"
	// LabelBuild marks images hadrill built, so dangling ones can be pruned.
	LabelBuild = "hadrill.build"
)

// ErrNoDocker is matched (errors.Is) by every error that means no Docker
// engine could be reached. The CLI maps it to exit code 3 (environment).
var ErrNoDocker = errors.New("no Docker engine reachable")

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

// prepare runs before the first testcontainers call. Ryuk cannot start
// without a registry, and the value must be exactly "true". testcontainers'
// default logger writes banners to stderr; hadrill's progress line owns the
// terminal, so its messages go to slog at debug level instead.
func prepare() {
	prepareOnce.Do(func() {
		if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
			os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		}
		tclog.SetDefault(slogPrintf{})
	})
}

// slogPrintf adapts testcontainers' Printf logger to slog at debug level.
type slogPrintf struct{}

// Printf logs one testcontainers message at debug level.
func (slogPrintf) Printf(format string, v ...any) {
	slog.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "testcontainers")
}

// dockerHost names the engine endpoint for error messages.
func dockerHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

// plainCause replaces testcontainers' discovery error, which reports only
// its last strategy ("rootless Docker not found"), with the plain fact when
// the default socket is simply missing.
func plainCause(err error) error {
	if os.Getenv("DOCKER_HOST") != "" {
		return err
	}
	if _, serr := os.Stat(strings.TrimPrefix(dockerHost(), "unix://")); serr != nil {
		return serr
	}
	return err
}

// connect opens a Docker client the way testcontainers discovers the engine
// (DOCKER_HOST, ~/.testcontainers.properties, the default socket), so the
// containers hadrill inspects and the ones testcontainers creates are on the
// same engine. It pings the engine, so a dead engine is ErrNoDocker here and
// not a confusing failure later.
func connect(ctx context.Context) (*testcontainers.DockerClient, error) {
	prepare()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, &noDockerError{host: dockerHost(), err: plainCause(err)}
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		cli.Close()
		return nil, &noDockerError{host: cli.DaemonHost(), err: err}
	}
	return cli, nil
}

// Available reports whether a Docker engine is reachable. The error wraps
// ErrNoDocker and says where the engine was looked for, so `hadrill run` can
// stop before building anything and exit 3 with a message the user can act
// on.
func Available(ctx context.Context) error {
	cli, err := connect(ctx)
	if err != nil {
		return err
	}
	return cli.Close()
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. The port is
// bound explicitly when the container is created, so it stays the same when
// the node is restarted: clients cache addresses. Another process may take it
// between here and then; Start retries with a new port when that happens.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// isPortTaken tells whether a container start failed because its host port
// was taken after freePort chose it.
func isPortTaken(err error) bool {
	s := err.Error()
	return strings.Contains(s, "port is already allocated") ||
		strings.Contains(s, "address already in use")
}
