package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// tableName is the agent's own nftables table. Everything the agent does to
// the packet path lives in it, so healing everything is one table delete.
const tableName = "hadrill"

// chainPriority runs the agent's chains just before the usual filter chains.
// The order only matters for reading counters: a drop anywhere is final.
const chainPriority = -10

// nft installs and removes the agent's packet rules through netlink. Each
// fault gets its own pair of base chains (input and output) in the agent's
// table, so healing one fault is deleting its chains and nothing else moves.
// Every chain starts by accepting the agent's control port, so the harness
// can always reach the agent to heal.
type nft struct {
	controlPort uint16

	mu  sync.Mutex
	seq int
}

// nftRule is one rule of a fault chain. label tags the rule (as an nft
// comment) so its counters can be found again when measuring.
type nftRule struct {
	label string
	exprs []expr.Any
}

// nftChains describes the rules of one fault; an empty side gets no chain.
type nftChains struct {
	in, out []nftRule
	// keepLoopback leaves loopback traffic subject to the rules (dns needs
	// it for Docker's resolver at 127.0.0.11); by default loopback is exempt.
	keepLoopback bool
}

// nftFault is an installed set of chains.
type nftFault struct {
	n      *nft
	chains []*nftables.Chain
}

func (n *nft) table() *nftables.Table {
	return &nftables.Table{Name: tableName, Family: nftables.TableFamilyINet}
}

// install creates the fault's chains and rules in one netlink batch. When it
// returns nil the kernel has acknowledged the batch: the rules are live.
func (n *nft) install(kind Kind, spec nftChains) (*nftFault, error) {
	n.mu.Lock()
	n.seq++
	prefix := fmt.Sprintf("%s-%d", kind, n.seq)
	n.mu.Unlock()

	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("open nftables: %w", err)
	}
	t := c.AddTable(n.table())
	f := &nftFault{n: n}
	for _, side := range []struct {
		name  string
		hook  *nftables.ChainHook
		rules []nftRule
	}{{"in", nftables.ChainHookInput, spec.in}, {"out", nftables.ChainHookOutput, spec.out}} {
		if len(side.rules) == 0 {
			continue
		}
		ch := c.AddChain(&nftables.Chain{
			Name: prefix + "-" + side.name, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: side.hook, Priority: nftables.ChainPriorityRef(chainPriority),
		})
		input := side.name == "in"
		for _, r := range n.exemptions(input, spec.keepLoopback) {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: r})
		}
		for _, r := range side.rules {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: r.exprs,
				UserData: userdata.AppendString(nil, userdata.TypeComment, r.label)})
		}
		f.chains = append(f.chains, ch)
	}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("install nftables rules: %w", err)
	}
	return f, nil
}

// exemptions are the first rules of every chain: the control port in both
// directions and, unless asked otherwise, loopback.
func (n *nft) exemptions(input bool, keepLoopback bool) [][]expr.Any {
	var port []expr.Any
	if input {
		port = matchPort(unix.IPPROTO_TCP, true, n.controlPort)
	} else {
		port = matchPort(unix.IPPROTO_TCP, false, n.controlPort)
	}
	rules := [][]expr.Any{append(port, accept())}
	if !keepLoopback {
		rules = append(rules, append(matchIfname(input, "lo"), accept()))
	}
	return rules
}

// counters sums, per rule label, the packet counts of each counter position:
// counters(...)["loss"][1] is the second counter of every "loss" rule.
func (f *nftFault) counters() (map[string][]uint64, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("open nftables: %w", err)
	}
	out := map[string][]uint64{}
	for _, ch := range f.chains {
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			return nil, fmt.Errorf("read rules of %s: %w", ch.Name, err)
		}
		for _, r := range rules {
			label, ok := userdata.GetString(r.UserData, userdata.TypeComment)
			if !ok {
				continue
			}
			i := 0
			for _, e := range r.Exprs {
				if cnt, ok := e.(*expr.Counter); ok {
					for len(out[label]) <= i {
						out[label] = append(out[label], 0)
					}
					out[label][i] += cnt.Packets
					i++
				}
			}
		}
	}
	return out, nil
}

// remove deletes the fault's chains. A chain already gone (heal-all deleted
// the table) is not an error.
func (f *nftFault) remove() error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	for _, ch := range f.chains {
		c.FlushChain(ch)
		c.DelChain(ch)
	}
	if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete nftables chains: %w", err)
	}
	return nil
}

// healRules takes the final measurement and then removes the rules. A failed
// measurement does not stop the heal: the effect must go regardless.
func healRules(f *nftFault, measure func() (Measured, error)) (Measured, error) {
	m, err := measure()
	if err != nil {
		slog.Warn("read final counters", "err", err)
	}
	return m, f.remove()
}

// deleteTable removes the agent's table and everything in it.
func (n *nft) deleteTable() error {
	gone, err := n.tableGone()
	if err != nil || gone {
		return err
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	c.DelTable(n.table())
	if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete nftables table: %w", err)
	}
	return nil
}

// tableGone reports whether the agent's table is absent. Without
// CAP_NET_ADMIN the agent cannot list tables, but then it cannot have
// created one either.
func (n *nft) tableGone() (bool, error) {
	c, err := nftables.New()
	if err != nil {
		return false, fmt.Errorf("open nftables: %w", err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if errors.Is(err, os.ErrPermission) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("list nftables tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == tableName {
			return false, nil
		}
	}
	return true, nil
}

// probe checks that nftables works here: it creates and deletes a scratch
// table in one batch, which leaves the ruleset as it was.
func (n *nft) probe() bool {
	c, err := nftables.New()
	if err != nil {
		return false
	}
	t := &nftables.Table{Name: tableName + "-probe", Family: nftables.TableFamilyINet}
	c.AddTable(t)
	c.DelTable(t)
	return c.Flush() == nil
}

// Expression builders. Each returns the expressions of one match, to be
// concatenated into a rule. Register 1 is scratch for all of them.

func accept() expr.Any { return &expr.Verdict{Kind: expr.VerdictAccept} }

func drop() expr.Any { return &expr.Verdict{Kind: expr.VerdictDrop} }

func counter() expr.Any { return &expr.Counter{} }

// matchPort matches a TCP or UDP destination (dst) or source port.
func matchPort(proto byte, dst bool, port uint16) []expr.Any {
	off := uint32(0)
	if dst {
		off = 2
	}
	b := make([]byte, 2)
	binary.BigEndian.PutUint16(b, port)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	}
}

// matchAddr matches the source or destination address of IPv4 or IPv6
// packets; the nfproto check keeps an IPv4 match off IPv6 headers.
func matchAddr(ip net.IP, src bool) []expr.Any {
	proto, off, data := byte(unix.NFPROTO_IPV6), uint32(24), []byte(ip.To16())
	if v4 := ip.To4(); v4 != nil {
		proto, off, data = unix.NFPROTO_IPV4, 16, []byte(v4)
		if src {
			off = 12
		}
	} else if src {
		off = 8
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: uint32(len(data))},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: data},
	}
}

// matchIfname matches the input (in) or output interface name.
func matchIfname(in bool, name string) []expr.Any {
	key := expr.MetaKeyOIFNAME
	if in {
		key = expr.MetaKeyIIFNAME
	}
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	}
}

// randomBelow matches a packet with probability percent/100 (0.01
// resolution). numgen leaves the number in host order while cmp compares
// bytes big-endian, hence the explicit byteorder conversion.
func randomBelow(percent float64) []expr.Any {
	const modulus = 10000
	threshold := uint32(percent*modulus/100 + 0.5)
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, threshold)
	return []expr.Any{
		&expr.Numgen{Register: 1, Modulus: modulus, Type: unix.NFT_NG_RANDOM},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: b},
	}
}

// peerMatches returns, for each peer, the match for the given side (src for
// packets coming in, dst for packets going out); with no peers, one empty
// match that applies to all traffic.
func peerMatches(peers []net.IP, input bool) [][]expr.Any {
	if len(peers) == 0 {
		return [][]expr.Any{nil}
	}
	out := make([][]expr.Any, 0, len(peers))
	for _, p := range peers {
		out = append(out, matchAddr(p, input))
	}
	return out
}

// parsePeers validates peer addresses.
func parsePeers(peers []string) ([]net.IP, error) {
	out := make([]net.IP, 0, len(peers))
	for _, p := range peers {
		ip := net.ParseIP(strings.TrimSpace(p))
		if ip == nil {
			return nil, badParams("peer %q is not an IP address", p)
		}
		out = append(out, ip)
	}
	return out, nil
}

// peerChains builds the input and output chains of a per-peer packet
// fault (partition, loss): one rule set per direction the fault asks for,
// each made by build from the matches for the given peers.
func peerChains(p Params, build func(matches [][]expr.Any) []nftRule) (nftChains, error) {
	var spec nftChains
	peers, err := parsePeers(p.Peers)
	if err != nil {
		return spec, err
	}
	in, out, err := sides(p.Direction)
	if err != nil {
		return spec, err
	}
	if in {
		spec.in = build(peerMatches(peers, true))
	}
	if out {
		spec.out = build(peerMatches(peers, false))
	}
	return spec, nil
}

// sides turns a direction into the chains it needs.
func sides(d Direction) (in, out bool, err error) {
	switch d {
	case "", DirBoth:
		return true, true, nil
	case DirIn:
		return true, false, nil
	case DirOut:
		return false, true, nil
	}
	return false, false, badParams("direction %q is not in, out or both", d)
}

// concat joins expression slices into one rule body.
func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
