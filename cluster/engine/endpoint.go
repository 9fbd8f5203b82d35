package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/moby/client"
)

// defaultEndpoint is where the docker CLI looks when nothing says otherwise.
const defaultEndpoint = "unix:///var/run/docker.sock"

// pingTimeout bounds the first contact with the engine, so that a wrong
// endpoint (a remote host that drops packets) fails in seconds, not at the
// TCP timeout minutes later.
const pingTimeout = 8 * time.Second

// Endpoint is the Docker engine hadrill talks to, and what chose it.
type Endpoint struct {
	// Host is the engine's address: unix:///..., tcp://..., ssh://...
	Host string
	// Source says where Host came from: "DOCKER_HOST", "docker context
	// <name>" or "default socket".
	Source string
}

func (e Endpoint) String() string { return e.Host + " (" + e.Source + ")" }

// ResolveEndpoint picks the engine as the docker CLI does: DOCKER_HOST; else
// the context named by DOCKER_CONTEXT or by currentContext in
// $DOCKER_CONFIG/config.json (default ~/.docker); else the default socket.
// It never falls back from a named endpoint to another one: a user who
// points hadrill at a remote engine and mistypes it must get an error, not
// a drill on the wrong machine (testcontainers' own discovery does fall
// back, which is why hadrill resolves the endpoint itself).
func ResolveEndpoint() (Endpoint, error) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return Endpoint{Host: h, Source: "DOCKER_HOST"}, nil
	}
	dir := dockerConfigDir()
	if dir == "" {
		return Endpoint{Host: defaultEndpoint, Source: "default socket"}, nil
	}
	name := os.Getenv("DOCKER_CONTEXT")
	if name == "" {
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return Endpoint{}, fmt.Errorf("read docker config: %w", err)
		}
		if err == nil {
			if err := json.Unmarshal(b, &cfg); err != nil {
				return Endpoint{}, fmt.Errorf("decode %s: %w", filepath.Join(dir, "config.json"), err)
			}
		}
		name = cfg.CurrentContext
	}
	if name == "" || name == "default" {
		return Endpoint{Host: defaultEndpoint, Source: "default socket"}, nil
	}
	host, err := contextHost(dir, name)
	if err != nil {
		return Endpoint{}, err
	}
	return Endpoint{Host: host, Source: "docker context " + name}, nil
}

// dockerConfigDir is the docker CLI's configuration folder: $DOCKER_CONFIG,
// else ~/.docker ("" when there is no home).
func dockerConfigDir() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker")
}

// contextHost reads a docker context's engine address from
// <dir>/contexts/meta/<sha256(name)>/meta.json, where the CLI keeps it.
func contextHost(dir, name string) (string, error) {
	sum := sha256.Sum256([]byte(name))
	path := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read docker context %q: no docker context of that name (docker context ls lists them; scripts/engines.sh up %s makes a test engine)", name, name)
	}
	if err != nil {
		return "", fmt.Errorf("read docker context %q: %w", name, err)
	}
	var meta struct {
		Name      string
		Endpoints map[string]struct{ Host string }
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return "", fmt.Errorf("decode docker context %q (%s): %w", name, path, err)
	}
	host := meta.Endpoints["docker"].Host
	if host == "" {
		return "", fmt.Errorf("docker context %q names no docker endpoint (%s)", name, path)
	}
	return host, nil
}

// pingEndpoint checks that the engine at ep answers, within pingTimeout.
func pingEndpoint(ctx context.Context, ep Endpoint) error {
	cli, err := client.New(client.FromEnv, client.WithHost(ep.Host))
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	_, err = cli.Ping(ctx, client.PingOptions{})
	return err
}
