package agent

import (
	"context"
	"net"
	"testing"
)

// TestProbeSeesResolveAndConnect checks both halves of a probe on loopback
// only: localhost resolves from /etc/hosts, a listening port connects, and a
// closed one is reported as a connect error.
func TestProbeSeesResolveAndConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := l.Addr().String()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()
	defer l.Close()

	p := probe(context.Background(), "localhost", open)
	if !p.OK() || len(p.Addrs) == 0 {
		t.Fatalf("probe of localhost and a listening port: %+v", p)
	}
	p = probe(context.Background(), "", closedAddr)
	if p.OK() || p.ConnectError == "" {
		t.Fatalf("probe of a closed port succeeded: %+v", p)
	}
}
