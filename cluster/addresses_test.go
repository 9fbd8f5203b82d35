package cluster

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
)

// TestFreeSubnetsSkipUsed checks that a subnet overlapping a host interface
// or a Docker network is never offered, and that the search starts where
// asked and wraps round the pool.
func TestFreeSubnetsSkipUsed(t *testing.T) {
	pool := netip.MustParsePrefix("10.199.0.0/22") // four /24s
	used := []netip.Prefix{netip.MustParsePrefix("10.199.1.0/24"), netip.MustParsePrefix("10.199.3.128/25")}
	got := freeSubnets(pool, used, 2)
	want := []string{"10.199.2.0/24", "10.199.0.0/24"}
	if len(got) != len(want) {
		t.Fatalf("free = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("free[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if n := len(freeSubnets(subnetPool, nil, 0)); n != 256 {
		t.Errorf("pool offers %d /24s, want 256", n)
	}
}

// TestAddrPlanKeepsReservedOutOfRange checks the layout: nodes inside the
// range Docker assigns from, reserved addresses outside it, all distinct.
func TestAddrPlanKeepsReservedOutOfRange(t *testing.T) {
	p, err := newAddrPlan(netip.MustParsePrefix("10.199.7.0/24"), 2)
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.ipam().Config[0]
	if cfg.Subnet.String() != "10.199.7.0/24" || cfg.Gateway.String() != "10.199.7.1" {
		t.Errorf("ipam = %+v", cfg)
	}
	if got := p.node(0).String(); got != "10.199.7.10" {
		t.Errorf("first node at %s, want 10.199.7.10", got)
	}
	for i := range maxPlannedNodes {
		if !cfg.IPRange.Contains(p.node(i)) {
			t.Errorf("node %d at %s is outside the range %s", i, p.node(i), cfg.IPRange)
		}
	}
	if len(p.reserved) != 2 {
		t.Fatalf("reserved = %v, want 2", p.reserved)
	}
	for _, r := range p.reserved {
		if cfg.IPRange.Contains(r) || !cfg.Subnet.Contains(r) {
			t.Errorf("reserved %s: want inside %s and outside the range %s", r, cfg.Subnet, cfg.IPRange)
		}
	}
	if _, err := newAddrPlan(netip.MustParsePrefix("10.199.0.0/16"), 1); err == nil {
		t.Error("a /16 was accepted, want only a /24")
	}
}

// reservingHakv is the test hakv with a reserved address and a sysctl, as a
// system with a virtual IP would ask.
type reservingHakv struct{ testHakv }

func (reservingHakv) ReserveAddrs(map[string]string) int { return 1 }

func (h reservingHakv) Container(cfg NodeConfig) (ContainerSpec, error) {
	cs, err := h.testHakv.Container(cfg)
	cs.Sysctls = map[string]string{"net.ipv4.ip_forward": "0"}
	return cs, err
}

// TestReservedAddressesAndSysctls starts two clusters of a reserving system
// at once: they get different subnets, each node sits at its planned
// address (the host reaches it there over the bridge), the reserved address
// is no node's, and the container carries the sysctl.
func TestReservedAddressesAndSysctls(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	cs := make([]*Cluster, 2)
	var wg sync.WaitGroup
	for i := range cs {
		spec := hakvSpec(t)
		spec.RunID += string(rune('a' + i))
		spec.Nodes = 2
		spec.System = reservingHakv{testHakv{Binary: hakvBinary, Args: fastFailover}}
		wg.Go(func() { cs[i] = startCluster(t, spec) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	a, b := cs[0].Reserved(), cs[1].Reserved()
	if len(a) != 1 || len(b) != 1 || cs[0].plan.subnet == cs[1].plan.subnet {
		t.Fatalf("reserved %v and %v on %s and %s: want one each, on different subnets", a, b, cs[0].plan.subnet, cs[1].plan.subnet)
	}
	cli, err := engine.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for _, c := range cs {
		for i, n := range c.Nodes() {
			ip, err := n.IP(ctx)
			if err != nil || ip != c.plan.node(i) || ip == c.Reserved()[0] {
				t.Errorf("%s: IP %v, %v; want the planned %s, not the reserved %s", n.Name(), ip, err, c.plan.node(i), c.Reserved()[0])
			}
			conn, err := net.DialTimeout("tcp", netip.AddrPortFrom(ip, testHakvPort).String(), 5*time.Second)
			if err != nil {
				t.Errorf("reach %s at its planned address: %v", n.Name(), err)
			} else {
				conn.Close()
			}
			info, err := cli.ContainerInspect(ctx, n.ContainerID(), client.ContainerInspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Container.HostConfig.Sysctls["net.ipv4.ip_forward"]; got != "0" {
				t.Errorf("%s: sysctl net.ipv4.ip_forward = %q, want 0", n.Name(), got)
			}
		}
	}
}
