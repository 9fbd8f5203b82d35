package agent_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/vishvananda/netns"
)

// TestDNS runs two tiny DNS responders, one on peer A port 53 and one
// standing in for Docker's resolver at 127.0.0.11 on a non-53 port (as after
// Docker's DNAT), and resolves through both from the node: lookups work
// before, fail while the fault is active, and work again after healing.
func TestDNS(t *testing.T) {
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	dnsServer(t, tp.a, peerA+":53")
	dnsServer(t, tp.node, "127.0.0.11:5353")
	servers := []string{peerA + ":53", "127.0.0.11:5353"}

	for _, s := range servers {
		if err := lookup(tp.node, s); err != nil {
			t.Fatalf("before: lookup via %s: %v", s, err)
		}
	}
	p.apply(t, agent.Fault{ID: "dns", Kind: kind.DNS})
	for _, s := range servers {
		err := lookup(tp.node, s)
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsTimeout {
			t.Errorf("during: lookup via %s: %v, want a timeout (an unreachable resolver)", s, err)
		}
	}
	m := p.heal(t, "dns").Measured
	t.Logf("agent measured %+v", m)
	if m.PacketsDropped == 0 {
		t.Error("agent counted no dropped DNS packets")
	}
	for _, s := range servers {
		if err := lookup(tp.node, s); err != nil {
			t.Errorf("after: lookup via %s: %v", s, err)
		}
	}
}

// lookup resolves db.hadrill.test through server, from inside ns.
func lookup(ns netns.NsHandle, server string) error {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return nsDialer(ns)(ctx, network, server)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	addrs, err := r.LookupHost(ctx, "db.hadrill.test")
	if err == nil && (len(addrs) != 1 || addrs[0] != "10.9.9.9") {
		return &net.DNSError{Err: "unexpected answer " + addrs[0], Name: "db.hadrill.test"}
	}
	return err
}

// dnsServer answers every A query with 10.9.9.9 and every other query with
// an empty answer, over UDP in ns.
func dnsServer(t testing.TB, ns netns.NsHandle, addr string) {
	t.Helper()
	c := udpSocket(t, ns, addr)
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n]); resp != nil {
				_, _ = c.WriteToUDP(resp, from)
			}
		}
	}()
}

// dnsAnswer builds the response to a single-question query.
func dnsAnswer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	end := 12
	for end < len(q) && q[end] != 0 {
		end += int(q[end]) + 1
	}
	end += 5 // zero label, qtype, qclass
	if end > len(q) {
		return nil
	}
	resp := append([]byte{}, q[:end]...)
	binary.BigEndian.PutUint16(resp[2:], 0x8180) // response, recursion available
	binary.BigEndian.PutUint16(resp[8:], 0)      // no authority
	binary.BigEndian.PutUint16(resp[10:], 0)     // no additional
	if binary.BigEndian.Uint16(q[end-4:]) != 1 { // not an A query
		binary.BigEndian.PutUint16(resp[6:], 0)
		return resp
	}
	binary.BigEndian.PutUint16(resp[6:], 1)
	return append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, 9, 9)
}
