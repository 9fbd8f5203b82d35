// Package engine reaches the Docker engines that hadrill runs clusters on:
// the one the docker CLI would use, found as the CLI finds it
// (ResolveEndpoint, Connect, Available), or several named engines (Open)
// joined into one Swarm for a cluster that spans them (AcquireSwarm). The
// removals of containers and networks live here too, because the
// lifecycle, the Swarm and the clean-up all remove through an engine.
package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/label"
)

// LocalEngine names the engine hadrill uses when a scenario lists none:
// DOCKER_HOST, or the default socket.
const LocalEngine = "local"

// Engine is one Docker engine of a multi-engine cluster: its name as the
// scenario gives it, its endpoint, its client, and the address where its
// published ports are reached from here.
type Engine struct {
	// Name is the scenario's name for it: "local", a docker context name, or
	// the endpoint itself.
	Name string
	// Host is the endpoint (unix://, tcp://).
	Host string
	// PublishIP is where node ports are bound on the engine's host and
	// reached from here: the hadrill.publish-ip label, else the tcp://
	// endpoint's address, else 127.0.0.1.
	PublishIP netip.Addr

	cli *client.Client
}

// Open resolves a scenario's engine name, connects, and reads where
// its ports are published. The error wraps ErrNoDocker when the engine does
// not answer.
func Open(ctx context.Context, name string) (*Engine, error) {
	host, err := resolveEngine(name)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(host, "ssh://") {
		return nil, fmt.Errorf("open engine %s: ssh:// endpoints are not supported yet: forward the engine's socket (ssh -L) and name it unix:// or tcp://", name)
	}
	cli, err := client.New(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("open engine %s: %w", name, err)
	}
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("open engine %s: %w", name, &noDockerError{host: host, err: err})
	}
	ip, err := publishIP(host, info.Info.Labels)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("open engine %s: %w", name, err)
	}
	return &Engine{Name: name, Host: host, PublishIP: ip, cli: cli}, nil
}

// Close closes the engine's client.
func (e *Engine) Close() error { return e.cli.Close() }

// Client is the engine's Docker client, for the lifecycle, the image
// shipping and the clean-up to act on this engine.
func (e *Engine) Client() *client.Client { return e.cli }

// resolveEngine turns a scenario's engine name into an endpoint: "local" is
// the engine hadrill uses by default, anything with "://" is an endpoint,
// and any other name is a docker context.
func resolveEngine(name string) (string, error) {
	switch {
	case name == LocalEngine:
		ep, err := ResolveEndpoint()
		return ep.Host, err
	case strings.Contains(name, "://"):
		return name, nil
	case name == "default":
		return defaultEndpoint, nil
	}
	host, err := contextHost(dockerConfigDir(), name)
	if err != nil {
		return "", fmt.Errorf("resolve engine %s: %w", name, err)
	}
	return host, nil
}

// publishIP decides where an engine's published ports are reached from
// here: its hadrill.publish-ip label, else the host of a tcp:// endpoint,
// else this machine's loopback.
func publishIP(host string, labels []string) (netip.Addr, error) {
	for _, l := range labels {
		if v, ok := strings.CutPrefix(l, label.PublishIP+"="); ok {
			ip, err := netip.ParseAddr(v)
			if err != nil {
				return netip.Addr{}, fmt.Errorf("read label %s: %w", label.PublishIP, err)
			}
			return ip, nil
		}
	}
	if u, err := url.Parse(host); err == nil && u.Scheme == "tcp" {
		h := u.Hostname()
		if ip, err := netip.ParseAddr(h); err == nil {
			return ip, nil
		}
		ips, err := net.LookupIP(h)
		if err != nil || len(ips) == 0 {
			return netip.Addr{}, fmt.Errorf("resolve engine host %s: %w", h, err)
		}
		ip, _ := netip.AddrFromSlice(ips[0])
		return ip.Unmap(), nil
	}
	return netip.MustParseAddr("127.0.0.1"), nil
}

// swarmAddr is the address an engine advertises to the Swarm. An engine
// reached from here at a routable address uses that; an engine on this
// machine (publishing on loopback) uses this machine's own address on the
// route towards the first engine that is not on loopback.
func swarmAddr(e *Engine, all []*Engine) (netip.Addr, error) {
	if !e.PublishIP.IsLoopback() {
		return e.PublishIP, nil
	}
	for _, o := range all {
		if o.PublishIP.IsLoopback() {
			continue
		}
		// A UDP "connection" sends nothing; it only asks the kernel for the
		// source address of that route.
		conn, err := net.Dial("udp", net.JoinHostPort(o.PublishIP.String(), "2377"))
		if err != nil {
			return netip.Addr{}, fmt.Errorf("find route to engine %s: %w", o.Name, err)
		}
		defer conn.Close()
		return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
	}
	return netip.Addr{}, fmt.Errorf("find swarm address of engine %s: every engine is on loopback; two engines of one machine need a hadrill.publish-ip label", e.Name)
}

// PlaceNodes assigns every node to an engine: the placement map first,
// then round robin over the engines in order (spread) for the rest.
func PlaceNodes(nodes []string, engines []string, placement map[string]string) (map[string]string, error) {
	known := map[string]bool{}
	for _, e := range engines {
		known[e] = true
	}
	isNode := map[string]bool{}
	for _, n := range nodes {
		isNode[n] = true
	}
	for n, e := range placement {
		if !isNode[n] {
			return nil, fmt.Errorf("place nodes: placement names node %s, which the cluster does not have", n)
		}
		if !known[e] {
			return nil, fmt.Errorf("place nodes: placement puts %s on engine %s, which cluster.engines does not list", n, e)
		}
	}
	out := make(map[string]string, len(nodes))
	next := 0
	for _, n := range nodes {
		if e, ok := placement[n]; ok {
			out[n] = e
			continue
		}
		out[n] = engines[next%len(engines)]
		next++
	}
	return out, nil
}
