package agent

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	nfqueue "github.com/florianl/go-nfqueue/v2"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/hadrill/hadrill/faults/kind"
)

// corrupt, duplicate and reorder act on a share of the node's egress
// packets. The dice are thrown in the kernel (nftables numgen, as for loss),
// and only the chosen packets go through an NFQUEUE (with bypass, as for
// delay) to the agent, which
//   - corrupt: flips one bit of the packet's transport payload (or, for a
//     packet without payload, of its transport checksum) and lets it go. The
//     checksum no longer matches, so the receiver's kernel discards it, as it
//     would a packet damaged on the wire (it shows in the receiver's
//     InCsumErrors);
//   - duplicate: lets it go and sends a copy through a raw socket; the copy
//     carries a mark that the rules let pass;
//   - reorder: holds it for delay (default 10 ms) while the packets behind
//     it pass, so it arrives after them.
// Where the kernel has tc netem, netem could do the same; it is not used
// here yet because the chosen share must be measured, and the counters of
// the rules measure it for every mechanism alike.

// dupMark marks the copies duplicate sends, so the rules let them pass.
const dupMark = 0x48440001

// defaultReorderHold is how long reorder holds a packet back.
const defaultReorderHold = 10 * time.Millisecond

// mangleFault is an applied corrupt, duplicate or reorder.
type mangleFault struct {
	kind  Kind
	rules *nftFault
	q     *mangleQueue
}

func init() { register(applyMangle, kind.Corrupt, kind.Duplicate, kind.Reorder) }

func applyMangle(a *Agent, f Fault) (fault, error) {
	p := f.Params
	if p.Percent <= 0 || p.Percent > 100 {
		return nil, badParams("%s percent %v is not in (0, 100]", f.Kind, p.Percent)
	}
	if p.Delay < 0 {
		return nil, badParams("%s delay must not be negative", f.Kind)
	}
	peers, err := parsePeers(p.Peers)
	if err != nil {
		return nil, err
	}
	seed := uint64(p.Seed)
	if seed == 0 {
		seed = seedFrom(f.ID)
	}
	hold := time.Duration(p.Delay)
	if hold == 0 {
		hold = defaultReorderHold
	}
	num := uint16(queueBase + a.queueSeq.Add(1))
	q, err := openMangleQueue(num, f.Kind, hold, seed)
	if err != nil {
		return nil, err
	}
	var spec nftChains
	if f.Kind == kind.Duplicate {
		spec.out = append(spec.out, nftRule{label: "copy", exprs: append(matchMark(dupMark), accept())})
	}
	for _, m := range peerMatches(peers, false) {
		body := concat(m, []expr.Any{counter()}, randomBelow(p.Percent), []expr.Any{counter(), queueTarget(num)})
		spec.out = append(spec.out, nftRule{label: "mangle", exprs: body})
	}
	rules, err := a.nft.install(f.Kind, spec)
	if err != nil {
		q.close()
		return nil, err
	}
	return &mangleFault{kind: f.Kind, rules: rules, q: q}, nil
}

// matchMark matches packets carrying mark.
func matchMark(mark uint32) []expr.Any {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, mark)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	}
}

func (f *mangleFault) mechanism() string { return "nfqueue" }

// measure reports the packets the rules saw and what the agent did to the
// ones the dice chose.
func (f *mangleFault) measure() (Measured, error) {
	c, err := f.rules.counters()
	if err != nil {
		return Measured{}, err
	}
	m := Measured{}
	if v := c["mangle"]; len(v) == 2 {
		m.PacketsSeen = v[0]
	}
	done := f.q.done.Load()
	switch f.kind {
	case kind.Corrupt:
		m.PacketsCorrupted = done
	case kind.Duplicate:
		m.PacketsDuplicated = done
	case kind.Reorder:
		m.PacketsReordered = done
	}
	return m, nil
}

// heal stops queueing, releases what is held, and closes the queue.
func (f *mangleFault) heal() (Measured, error) {
	m, merr := f.measure()
	err := f.rules.remove()
	f.q.drain(f.q.hold + time.Second)
	f.q.close()
	m2, _ := f.measure()
	m.PacketsCorrupted, m.PacketsDuplicated, m.PacketsReordered = m2.PacketsCorrupted, m2.PacketsDuplicated, m2.PacketsReordered
	return m, errors.Join(merr, err)
}

// mangleQueue is the userspace side of corrupt, duplicate and reorder.
type mangleQueue struct {
	nf     *nfqueue.Nfqueue
	cancel context.CancelFunc
	kind   Kind
	hold   time.Duration
	raw    int // raw socket for duplicate copies, -1 when unused

	mu  sync.Mutex
	rng *rand.Rand

	pending sync.WaitGroup
	done    atomic.Uint64
}

func openMangleQueue(num uint16, k Kind, hold time.Duration, seed uint64) (*mangleQueue, error) {
	q := &mangleQueue{kind: k, hold: hold, raw: -1, rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e995))}
	if k == kind.Duplicate {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		if err != nil {
			return nil, fmt.Errorf("open raw socket for duplicates: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, dupMark); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("mark raw socket: %w", err)
		}
		q.raw = fd
	}
	// No GSO flag: the kernel completes checksums and segments large
	// packets before queueing, so the agent sees wire packets.
	nf, err := nfqueue.Open(&nfqueue.Config{
		NfQueue: num, MaxQueueLen: 65535, Copymode: nfqueue.NfQnlCopyPacket, MaxPacketLen: 0xffff,
		Flags: nfqueue.NfQaCfgFlagFailOpen,
	})
	if err != nil {
		q.closeRaw()
		return nil, fmt.Errorf("open nfqueue %d: %w", num, err)
	}
	_ = nf.SetOption(netlink.NoENOBUFS, true)
	q.nf = nf
	cancel, err := listenQueue(nf, num, string(k), q.handle)
	if err != nil {
		nf.Close()
		q.closeRaw()
		return nil, err
	}
	q.cancel = cancel
	return q, nil
}

// handle acts on one chosen packet; it must return quickly.
func (q *mangleQueue) handle(a nfqueue.Attribute) int {
	if a.PacketID == nil {
		return 0
	}
	id := *a.PacketID
	var pkt []byte
	if a.Payload != nil {
		pkt = *a.Payload
	}
	switch q.kind {
	case kind.Corrupt:
		if q.corrupt(pkt) {
			_ = q.nf.SetVerdictModPacket(id, nfqueue.NfAccept, pkt)
			q.done.Add(1)
			return 0
		}
	case kind.Duplicate:
		_ = q.nf.SetVerdict(id, nfqueue.NfAccept)
		if q.sendCopy(pkt) == nil {
			q.done.Add(1)
		}
		return 0
	case kind.Reorder:
		q.pending.Add(1)
		time.AfterFunc(q.hold, func() {
			defer q.pending.Done()
			if q.nf.SetVerdict(id, nfqueue.NfAccept) == nil {
				q.done.Add(1)
			}
		})
		return 0
	}
	_ = q.nf.SetVerdict(id, nfqueue.NfAccept)
	return 0
}

// corrupt flips one random bit of the transport payload, or of the
// transport checksum when there is no payload. It reports false for a
// packet it cannot parse (left intact).
func (q *mangleQueue) corrupt(pkt []byte) bool {
	from, csum, ok := transport(pkt)
	if !ok {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if from < len(pkt) {
		i := from + q.rng.IntN(len(pkt)-from)
		pkt[i] ^= 1 << q.rng.IntN(8)
		return true
	}
	if csum < 0 {
		return false
	}
	pkt[csum] ^= 1 << q.rng.IntN(8)
	return true
}

// transport returns where an IPv4 or IPv6 packet's transport payload starts
// and where its checksum is (-1 when unknown).
func transport(pkt []byte) (payload, csum int, ok bool) {
	if len(pkt) < 20 {
		return 0, 0, false
	}
	var l4 int
	var proto byte
	switch pkt[0] >> 4 {
	case 4:
		l4, proto = int(pkt[0]&0x0f)*4, pkt[9]
	case 6:
		if len(pkt) < 40 {
			return 0, 0, false
		}
		l4, proto = 40, pkt[6]
	default:
		return 0, 0, false
	}
	switch proto {
	case unix.IPPROTO_UDP:
		return l4 + 8, l4 + 6, l4+8 <= len(pkt)
	case unix.IPPROTO_TCP:
		if l4+20 > len(pkt) {
			return 0, 0, false
		}
		return l4 + int(pkt[l4+12]>>4)*4, l4 + 16, true
	}
	return l4, -1, l4 <= len(pkt)
}

// sendCopy sends a copy of an IPv4 packet through the marked raw socket.
func (q *mangleQueue) sendCopy(pkt []byte) error {
	if q.raw < 0 || len(pkt) < 20 || pkt[0]>>4 != 4 {
		return errors.New("not an IPv4 packet")
	}
	var to unix.SockaddrInet4
	copy(to.Addr[:], net.IP(pkt[16:20]).To4())
	return unix.Sendto(q.raw, pkt, 0, &to)
}

// drain waits (at most limit) for held packets to be released.
func (q *mangleQueue) drain(limit time.Duration) {
	done := make(chan struct{})
	go func() { q.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		slog.Warn("nfqueue drain timed out; remaining packets are dropped")
	}
}

func (q *mangleQueue) close() {
	q.cancel()
	_ = q.nf.Close()
	q.closeRaw()
}

func (q *mangleQueue) closeRaw() {
	if q.raw >= 0 {
		unix.Close(q.raw)
		q.raw = -1
	}
}
