package agent

import (
	"context"
	"net"
	"net/http"
	"time"
)

// probeTimeout bounds each half of a probe: long enough for a healthy
// lookup or connect, short enough that a fault shows as a failure.
const probeTimeout = 2 * time.Second

// Probe answers GET /probe: what the node itself sees when it resolves a
// name and opens a TCP connection. Faults are proven by their effect from
// inside the node (a dns fault makes peer names fail to resolve), and the
// harness checks after the final heal that every node reaches its peers.
type Probe struct {
	// Resolve is the name looked up; Addrs what it resolved to.
	Resolve      string   `json:"resolve,omitempty"`
	Addrs        []string `json:"addrs,omitempty"`
	ResolveError string   `json:"resolve_error,omitempty"`
	// Connect is the host:port dialled.
	Connect      string `json:"connect,omitempty"`
	ConnectError string `json:"connect_error,omitempty"`
	// Millis is how long the probe took.
	Millis float64 `json:"ms"`
}

// OK reports whether every part of the probe succeeded.
func (p Probe) OK() bool { return p.ResolveError == "" && p.ConnectError == "" }

// handleProbe serves GET /probe?resolve=NAME&connect=HOST:PORT.
func (a *Agent) handleProbe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, probe(r.Context(), r.URL.Query().Get("resolve"), r.URL.Query().Get("connect")))
}

func probe(ctx context.Context, name, addr string) Probe {
	start := time.Now()
	p := Probe{Resolve: name, Connect: addr}
	if name != "" {
		rctx, cancel := context.WithTimeout(ctx, probeTimeout)
		// The pure Go resolver, as the system under test would use in a
		// scratch image: /etc/hosts, then the DNS servers of resolv.conf.
		r := &net.Resolver{PreferGo: true}
		addrs, err := r.LookupHost(rctx, name)
		cancel()
		p.Addrs = addrs
		if err != nil {
			p.ResolveError = err.Error()
		}
	}
	if addr != "" {
		conn, err := net.DialTimeout("tcp", addr, probeTimeout)
		if err != nil {
			p.ConnectError = err.Error()
		} else {
			conn.Close()
		}
	}
	p.Millis = float64(time.Since(start).Microseconds()) / 1000
	return p
}
