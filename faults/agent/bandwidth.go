package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"

	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hadrill/hadrill/faults/kind"
)

// Egress shaping (bandwidth, and delay where the kernel has netem) uses one
// structure: an HTB root qdisc whose default is its unshaped direct queue,
// one HTB class holding the shaping leaf (tbf or netem), and nftables rules
// that steer the targeted packets into that class by setting skb->priority
// to the class id (HTB classifies on priority before any tc filter). So the
// control port, loopback and non-targeted peers are never shaped, and no tc
// classifier is needed (this kernel has neither prio nor cls_fw).

// shapeMajor marks every qdisc the agent installs ("HD"), so that a heal, a
// restart of the agent or heal-all can find and remove them.
const shapeMajor = 0x4844

var (
	shapeRoot  = netlink.MakeHandle(shapeMajor, 0)
	shapeClass = netlink.MakeHandle(shapeMajor, 1)
	shapeLeaf  = netlink.MakeHandle(shapeMajor+1, 0)
)

// shapeClassBits is the HTB class rate: far above any link, so the class
// itself never limits; the leaf does.
const shapeClassBits = 10_000_000_000

// shaper is an installed shaping structure on some links.
type shaper struct {
	links []netlink.Link
	rules *nftFault
}

// installShaper puts the HTB structure with the given leaf on every link
// that leads to the peers (all non-loopback links when there are none), then
// steers the peers' egress packets into it. leaf builds the leaf qdisc for
// one link under shapeClass.
func installShaper(a *Agent, kind Kind, peers []net.IP, leaf func(link int) netlink.Qdisc) (*shaper, error) {
	links, err := shapeLinks(peers)
	if err != nil {
		return nil, err
	}
	s := &shaper{}
	for _, l := range links {
		if err := addShaping(l, leaf(l.Attrs().Index)); err != nil {
			s.removeQdiscs()
			return nil, fmt.Errorf("shape %s: %w", l.Attrs().Name, err)
		}
		s.links = append(s.links, l)
	}
	prio := make([]byte, 4)
	binary.NativeEndian.PutUint32(prio, shapeClass)
	setPrio := []expr.Any{counter(),
		&expr.Immediate{Register: 1, Data: prio},
		&expr.Meta{Key: expr.MetaKeyPRIORITY, SourceRegister: true, Register: 1}}
	var spec nftChains
	for _, m := range peerMatches(peers, false) {
		spec.out = append(spec.out, nftRule{label: "shape", exprs: concat(m, setPrio)})
	}
	if s.rules, err = a.nft.install(kind, spec); err != nil {
		s.removeQdiscs()
		return nil, err
	}
	return s, nil
}

// addShaping installs root, class and leaf on one link. A root the agent
// already owns means another shaping fault is active there.
func addShaping(l netlink.Link, leaf netlink.Qdisc) error {
	qs, err := netlink.QdiscList(l)
	if err != nil {
		return fmt.Errorf("list qdiscs: %w", err)
	}
	for _, q := range qs {
		if q.Attrs().Parent == netlink.HANDLE_ROOT && q.Attrs().Handle == shapeRoot {
			return fmt.Errorf("%w: another shaping fault is active", ErrConflict)
		}
	}
	qlen := uint32(1000)
	root := netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Parent: netlink.HANDLE_ROOT, Handle: shapeRoot})
	root.Defcls, root.DirectQlen = 0, &qlen
	if err := netlink.QdiscReplace(root); err != nil {
		return fmt.Errorf("add htb root: %w", err)
	}
	class := netlink.NewHtbClass(netlink.ClassAttrs{LinkIndex: l.Attrs().Index, Parent: shapeRoot, Handle: shapeClass},
		netlink.HtbClassAttrs{Rate: shapeClassBits, Ceil: shapeClassBits})
	if err := netlink.ClassAdd(class); err != nil {
		return fmt.Errorf("add htb class: %w", err)
	}
	if err := netlink.QdiscAdd(leaf); err != nil {
		return fmt.Errorf("add %s leaf: %w", leaf.Type(), err)
	}
	return nil
}

// shapeLinks finds the links that carry traffic to the peers.
func shapeLinks(peers []net.IP) ([]netlink.Link, error) {
	if len(peers) == 0 {
		all, err := netlink.LinkList()
		if err != nil {
			return nil, fmt.Errorf("list links: %w", err)
		}
		var out []netlink.Link
		for _, l := range all {
			if l.Attrs().Flags&net.FlagUp != 0 && l.Attrs().Flags&net.FlagLoopback == 0 {
				out = append(out, l)
			}
		}
		return out, nil
	}
	var idx []int
	for _, p := range peers {
		routes, err := netlink.RouteGet(p)
		if err != nil || len(routes) == 0 {
			return nil, badParams("no route to peer %s", p)
		}
		if !slices.Contains(idx, routes[0].LinkIndex) {
			idx = append(idx, routes[0].LinkIndex)
		}
	}
	out := make([]netlink.Link, 0, len(idx))
	for _, i := range idx {
		l, err := netlink.LinkByIndex(i)
		if err != nil {
			return nil, fmt.Errorf("find link %d: %w", i, err)
		}
		if l.Attrs().Flags&net.FlagLoopback == 0 {
			out = append(out, l)
		}
	}
	return out, nil
}

// names lists the shaped links, for Applied.Interfaces.
func (s *shaper) names() []string {
	out := make([]string, 0, len(s.links))
	for _, l := range s.links {
		out = append(out, l.Attrs().Name)
	}
	return out
}

// leafDrops sums the packets the leaf qdiscs dropped.
func (s *shaper) leafDrops() uint64 {
	var n uint64
	for _, l := range s.links {
		qs, err := netlink.QdiscList(l)
		if err != nil {
			continue
		}
		for _, q := range qs {
			if a := q.Attrs(); a.Handle == shapeLeaf && a.Statistics != nil && a.Statistics.Queue != nil {
				n += uint64(a.Statistics.Queue.Drops)
			}
		}
	}
	return n
}

// remove takes the steering rules away, then the qdiscs.
func (s *shaper) remove() error {
	err := s.rules.remove()
	return errors.Join(err, s.removeQdiscs())
}

func (s *shaper) removeQdiscs() error {
	var errs []error
	for _, l := range s.links {
		errs = append(errs, delShapeRoot(l))
	}
	return errors.Join(errs...)
}

// delShapeRoot deletes the agent's root qdisc on a link; the kernel then
// restores the link's default qdisc. A root already gone is fine.
func delShapeRoot(l netlink.Link) error {
	q := &netlink.GenericQdisc{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Parent: netlink.HANDLE_ROOT, Handle: shapeRoot}, QdiscType: "htb"}
	err := netlink.QdiscDel(q)
	if err == nil || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENODEV) {
		return nil
	}
	return fmt.Errorf("delete qdisc on %s: %w", l.Attrs().Name, err)
}

// removeAllShaping deletes the agent's qdiscs from every link, including
// ones left by an earlier agent in the same namespace.
func removeAllShaping() error {
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	var errs []error
	for _, l := range links {
		if owned, _ := ownsRoot(l); owned {
			errs = append(errs, delShapeRoot(l))
		}
	}
	return errors.Join(errs...)
}

// shapingGone reports whether no link carries an agent qdisc.
func shapingGone() (bool, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return false, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		owned, err := ownsRoot(l)
		if err != nil {
			return false, err
		}
		if owned {
			return false, nil
		}
	}
	return true, nil
}

func ownsRoot(l netlink.Link) (bool, error) {
	qs, err := netlink.QdiscList(l)
	if err != nil {
		return false, fmt.Errorf("list qdiscs of %s: %w", l.Attrs().Name, err)
	}
	for _, q := range qs {
		if q.Attrs().Handle == shapeRoot {
			return true, nil
		}
	}
	return false, nil
}

// bandwidthFault is an applied bandwidth limit.
type bandwidthFault struct {
	s *shaper
}

func init() { register(applyBandwidth, kind.Bandwidth) }

// applyBandwidth limits egress to the peers (or all traffic) with a token
// bucket filter of the given rate and burst.
func applyBandwidth(a *Agent, f Fault) (fault, error) {
	p := f.Params
	bits, err := rateBits(p)
	if err != nil {
		return nil, err
	}
	peers, err := parsePeers(p.Peers)
	if err != nil {
		return nil, err
	}
	rate := bits / 8 // bytes per second
	burst := p.BurstBytes
	if burst == 0 {
		burst = uint32(max(rate/100, 16<<10))
	}
	if burst < 1600 {
		return nil, badParams("burst_bytes %d is below one packet (1600)", burst)
	}
	limit := burst + uint32(rate/10) // up to 100 ms of queue
	leaf := func(link int) netlink.Qdisc {
		return &netlink.Tbf{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: link, Parent: shapeClass, Handle: shapeLeaf},
			Rate: rate, Buffer: netlink.Xmittime(rate, burst), Limit: limit}
	}
	s, err := installShaper(a, kind.Bandwidth, peers, leaf)
	if err != nil {
		return nil, err
	}
	return &bandwidthFault{s: s}, nil
}

// rateBits reads the rate (Rate or RateKbit) in bits per second.
func rateBits(p Params) (uint64, error) {
	switch {
	case p.Rate != 0 && p.RateKbit != 0:
		return 0, badParams("give rate or rate_kbit, not both")
	case p.RateKbit != 0:
		return p.RateKbit * 1000, nil
	case p.Rate <= 0:
		return 0, badParams("bandwidth needs a rate")
	case p.Rate < 8000:
		return 0, badParams("rate %s is below 8kbit", p.Rate)
	}
	return uint64(p.Rate), nil
}

func (f *bandwidthFault) mechanism() string { return "htb+tbf" }

func (f *bandwidthFault) interfaces() []string { return f.s.names() }

func (f *bandwidthFault) measure() (Measured, error) {
	c, err := f.s.rules.counters()
	if err != nil {
		return Measured{}, err
	}
	return Measured{PacketsShaped: first(c["shape"]), PacketsDropped: f.s.leafDrops()}, nil
}

func (f *bandwidthFault) heal() (Measured, error) {
	m, err := f.measure()
	if err != nil {
		m = Measured{}
	}
	return m, f.s.remove()
}

// qdiscSupport probes which qdisc kinds the kernel has, on a scratch veth
// pair that is deleted afterwards: "Specified qdisc kind is unknown" is the
// only reliable answer, and probing on a real link would disturb it.
func qdiscSupport() (map[string]bool, error) {
	name := fmt.Sprintf("hdp%d", os.Getpid()%100000)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "b"}
	if err := netlink.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("add probe veth: %w", err)
	}
	defer netlink.LinkDel(veth)
	l, err := netlink.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("find probe veth: %w", err)
	}
	attrs := netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Parent: netlink.HANDLE_ROOT, Handle: shapeRoot}
	probes := map[string]netlink.Qdisc{
		"netem": netlink.NewNetem(attrs, netlink.NetemQdiscAttrs{Latency: 1000}),
		"htb":   netlink.NewHtb(attrs),
		"tbf":   &netlink.Tbf{QdiscAttrs: attrs, Rate: 125000, Buffer: netlink.Xmittime(125000, 16<<10), Limit: 32 << 10},
	}
	out := map[string]bool{}
	for kind, q := range probes {
		err := netlink.QdiscReplace(q)
		out[kind] = err == nil
		if err == nil {
			_ = netlink.QdiscDel(q)
		}
	}
	return out, nil
}
