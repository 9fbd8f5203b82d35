package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// AddressReserver is the optional capability of a System that manages some
// addresses of the run network itself: keepalived moves a virtual IP between
// its nodes. The run network then gets a free /24 of its own instead of one
// Docker picks; every node gets a fixed address in its lower half, which
// NodeConfig.Peers carry (VRRP's unicast_peer takes addresses, not names);
// and ReserveAddrs addresses of the upper half, outside the range Docker
// assigns from, belong to the system: NodeConfig.Reserved inside the nodes,
// Cluster.Reserved for the clients.
type AddressReserver interface {
	// ReserveAddrs is how many addresses the system needs for itself, given
	// the scenario's options; 0 means none (the plain network).
	ReserveAddrs(opts map[string]string) int
}

// addrPlan is where everything sits on a run network with a fixed subnet:
// the gateway at .1, the nodes from .10 up (all inside the ip-range, the
// lower half), and the reserved addresses from .200 up (outside it).
type addrPlan struct {
	subnet   netip.Prefix
	reserved []netip.Addr
}

// Offsets inside the /24 of a planned network.
const (
	firstNodeHost     = 10
	firstReservedHost = 200
	maxPlannedNodes   = 100 // .10 to .109, well inside the lower /25
	maxReserved       = 50  // .200 to .249
)

// newAddrPlan lays out subnet (a /24) for reserve system addresses.
func newAddrPlan(subnet netip.Prefix, reserve int) (*addrPlan, error) {
	if subnet.Bits() != 24 || !subnet.Addr().Is4() {
		return nil, fmt.Errorf("plan addresses: want an IPv4 /24, got %s", subnet)
	}
	if reserve < 0 || reserve > maxReserved {
		return nil, fmt.Errorf("plan addresses: want 0 to %d reserved addresses, got %d", maxReserved, reserve)
	}
	p := &addrPlan{subnet: subnet.Masked()}
	for i := range reserve {
		p.reserved = append(p.reserved, p.host(firstReservedHost+i))
	}
	return p, nil
}

// host is the address with the given last byte.
func (p *addrPlan) host(last int) netip.Addr {
	b := p.subnet.Addr().As4()
	b[3] = byte(last)
	return netip.AddrFrom4(b)
}

// node is the fixed address of the i-th node (data nodes first).
func (p *addrPlan) node(i int) netip.Addr { return p.host(firstNodeHost + i) }

// ipam is the network's address management: the subnet, the gateway, and
// the lower half as the range Docker may assign from.
func (p *addrPlan) ipam() *network.IPAM {
	return &network.IPAM{Config: []network.IPAMConfig{{
		Subnet:  p.subnet,
		IPRange: netip.PrefixFrom(p.subnet.Addr(), 25),
		Gateway: p.host(1),
	}}}
}

// placeholderSubnet lays out addresses when only the spec is checked
// (Validate): TEST-NET-1, which is never routed.
var placeholderSubnet = netip.MustParsePrefix("192.0.2.0/24")

// subnetPool is where run networks with a fixed subnet are taken from: 256
// /24s of private space that Docker's default pools (172.17/16 to
// 172.31/16, 192.168/16) do not hand out.
var subnetPool = netip.MustParsePrefix("10.199.0.0/16")

// reserveCount asks the system how many addresses it needs.
func (s Spec) reserveCount() int {
	if r, ok := s.System.(AddressReserver); ok {
		return r.ReserveAddrs(s.Options)
	}
	return 0
}

// freeSubnets lists the pool's /24s that overlap nothing in used, starting
// at a random one so that runs started together try different subnets first.
func freeSubnets(pool netip.Prefix, used []netip.Prefix, start int) []netip.Prefix {
	n := 1 << (24 - pool.Bits())
	var out []netip.Prefix
	for k := range n {
		i := (start + k) % n
		b := pool.Addr().As4()
		b[2] += byte(i)
		cand := netip.PrefixFrom(netip.AddrFrom4(b), 24)
		if !overlapsAny(cand, used) {
			out = append(out, cand)
		}
	}
	return out
}

func overlapsAny(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if p.Overlaps(u) {
			return true
		}
	}
	return false
}

// usedSubnets are the subnets of the host's interfaces and of every Docker
// network: a run network must overlap none of them, or the host (which
// reaches the nodes directly, and a virtual IP over the bridge) would route
// to the wrong place.
func usedSubnets(ctx context.Context, docker networkLister) ([]netip.Prefix, error) {
	var used []netip.Prefix
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list host addresses: %w", err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			used = append(used, p.Masked())
		}
	}
	nets, err := docker.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list docker networks: %w", err)
	}
	for _, n := range nets.Items {
		for _, c := range n.IPAM.Config {
			if c.Subnet.IsValid() {
				used = append(used, c.Subnet)
			}
		}
	}
	return used, nil
}

// networkLister is the part of the Docker client usedSubnets needs.
type networkLister interface {
	NetworkList(ctx context.Context, opts client.NetworkListOptions) (client.NetworkListResult, error)
}

// maxSubnetTries bounds how many free-looking subnets are tried when
// concurrent runs race for the same one.
const maxSubnetTries = 8

// createPlannedNetwork creates the run network on a free /24 of the pool.
// Another run may take the same subnet between the listing and the
// creation; the engine then refuses the overlapping pool and the next free
// subnet is tried.
func (c *Cluster) createPlannedNetwork(ctx context.Context, reserve int) (*addrPlan, error) {
	used, err := usedSubnets(ctx, c.docker)
	if err != nil {
		return nil, fmt.Errorf("create network %s: %w", c.Network, err)
	}
	var last error
	for i, subnet := range freeSubnets(subnetPool, used, rand.IntN(256)) {
		if i == maxSubnetTries {
			break
		}
		plan, err := newAddrPlan(subnet, reserve)
		if err != nil {
			return nil, err
		}
		last = c.createNetworkWith(ctx, plan.ipam())
		if last == nil {
			return plan, nil
		}
		if !isPoolOverlap(last) {
			return nil, last
		}
	}
	if last == nil {
		last = errors.New("no free subnet in " + subnetPool.String())
	}
	return nil, last
}

// isPoolOverlap reports the engine's refusal of a subnet already in use.
func isPoolOverlap(err error) bool {
	return err != nil && strings.Contains(err.Error(), "overlap")
}

// Reserved lists the addresses the system reserved on the run network (see
// AddressReserver): where clients reach a virtual IP. It is empty for
// systems that reserve none.
func (c *Cluster) Reserved() []netip.Addr {
	if c.plan == nil {
		return nil
	}
	return append([]netip.Addr(nil), c.plan.reserved...)
}
