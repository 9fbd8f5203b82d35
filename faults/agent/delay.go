package agent

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	nfqueue "github.com/florianl/go-nfqueue/v2"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"github.com/mdlayher/netlink"
	vnl "github.com/vishvananda/netlink"

	"github.com/hadrill/hadrill/faults/kind"
)

// Delay holds egress packets for delay ± jitter (uniform). Where the kernel
// has tc netem, the agent uses it under its HTB shaping structure. Kernels
// without netem (like this project's CI machines) get the same effect from
// userspace: an xtables NFQUEUE target (through nftables' compat layer; the
// native nft queue statement is often not built) hands each packet to the
// agent, which sets the accept verdict after the delay. The queue is
// installed with the bypass flag, so if the agent dies packets flow again
// instead of being dropped.

// queueBase is the first NFQUEUE number the agent uses ("HD").
const queueBase = 0x4844

// nfqFlagBypass is NFQ_FLAG_BYPASS of xt_NFQ_info_v3.
const nfqFlagBypass = 0x01

// delayFault is an applied delay, by netem or by NFQUEUE.
type delayFault struct {
	delay time.Duration
	// netem
	s *shaper
	// nfqueue
	rules *nftFault
	q     *delayQueue
}

func init() { register(applyDelay, kind.Delay) }

// applyDelay validates the parameters and picks the mechanism.
func applyDelay(a *Agent, f Fault) (fault, error) {
	p := f.Params
	delay, jitter := time.Duration(p.Delay), time.Duration(p.Jitter)
	if delay <= 0 || jitter < 0 || jitter > delay {
		return nil, badParams("delay needs delay > 0 and 0 <= jitter <= delay")
	}
	peers, err := parsePeers(p.Peers)
	if err != nil {
		return nil, err
	}
	if k := a.qdiscKinds(); k["netem"] && k["htb"] {
		df, err := applyNetemDelay(a, peers, delay, jitter)
		if err == nil || errors.Is(err, ErrConflict) {
			return df, err
		}
		slog.Warn("netem delay failed, falling back to nfqueue", "err", err)
	}
	seed := uint64(p.Seed)
	if seed == 0 {
		seed = seedFrom(f.ID)
	}
	return applyQueueDelay(a, peers, delay, jitter, seed)
}

func applyNetemDelay(a *Agent, peers []net.IP, delay, jitter time.Duration) (fault, error) {
	leaf := func(link int) vnl.Qdisc {
		attrs := vnl.QdiscAttrs{LinkIndex: link, Parent: shapeClass, Handle: shapeLeaf}
		return vnl.NewNetem(attrs, vnl.NetemQdiscAttrs{
			Latency: uint32(delay.Microseconds()), Jitter: uint32(jitter.Microseconds()), Limit: 10000})
	}
	s, err := installShaper(a, kind.Delay, peers, leaf)
	if err != nil {
		return nil, err
	}
	return &delayFault{delay: delay, s: s}, nil
}

// applyQueueDelay starts the listener first, so packets are held from the
// first one the rules queue.
func applyQueueDelay(a *Agent, peers []net.IP, delay, jitter time.Duration, seed uint64) (fault, error) {
	num := uint16(queueBase + a.queueSeq.Add(1))
	q, err := openDelayQueue(num, delay, jitter, seed)
	if err != nil {
		return nil, err
	}
	target := queueTarget(num)
	var spec nftChains
	for _, m := range peerMatches(peers, false) {
		spec.out = append(spec.out, nftRule{label: "queue", exprs: concat(m, []expr.Any{counter(), target})})
	}
	rules, err := a.nft.install(kind.Delay, spec)
	if err != nil {
		q.close()
		return nil, err
	}
	return &delayFault{delay: delay, rules: rules, q: q}, nil
}

// queueTarget is the xtables NFQUEUE target, revision 3, with bypass. Its
// info is struct xt_NFQ_info_v3 {u16 queuenum, queues_total, flags, pad} in
// host byte order.
func queueTarget(num uint16) expr.Any {
	info := make([]byte, 8)
	binary.NativeEndian.PutUint16(info[0:], num)
	binary.NativeEndian.PutUint16(info[2:], 1)
	binary.NativeEndian.PutUint16(info[4:], nfqFlagBypass)
	raw := xt.Unknown(info)
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &raw}
}

func (f *delayFault) mechanism() string {
	if f.s != nil {
		return "netem"
	}
	return "nfqueue"
}

func (f *delayFault) interfaces() []string {
	if f.s != nil {
		return f.s.names()
	}
	return nil
}

// measure reports, for nfqueue, the packets released and the mean time they
// were really held; netem cannot be observed per packet, so its mean is the
// configured delay (the mean of its uniform jitter).
func (f *delayFault) measure() (Measured, error) {
	if f.s != nil {
		c, err := f.s.rules.counters()
		if err != nil {
			return Measured{}, err
		}
		n := first(c["shape"])
		return Measured{PacketsShaped: n, PacketsDelayed: n, MeanDelayMS: ms(f.delay)}, nil
	}
	return f.q.measure(), nil
}

// heal stops queueing new packets, lets the held ones go at their time, and
// only then closes the queue (closing would drop what is still held).
func (f *delayFault) heal() (Measured, error) {
	if f.s != nil {
		m, _ := f.measure()
		return m, f.s.remove()
	}
	err := f.rules.remove()
	f.q.drain(f.q.delay + f.q.jitter + time.Second)
	f.q.close()
	return f.q.measure(), err
}

// delayQueue is the userspace side of the NFQUEUE delay.
type delayQueue struct {
	nf            *nfqueue.Nfqueue
	cancel        context.CancelFunc
	delay, jitter time.Duration

	mu  sync.Mutex
	rng *rand.Rand

	pending  sync.WaitGroup
	released atomic.Uint64
	heldNS   atomic.Int64
}

func openDelayQueue(num uint16, delay, jitter time.Duration, seed uint64) (*delayQueue, error) {
	nf, err := nfqueue.Open(&nfqueue.Config{
		NfQueue: num, MaxQueueLen: 65535, Copymode: nfqueue.NfQnlCopyMeta,
		Flags: nfqueue.NfQaCfgFlagFailOpen | nfqueue.NfQaCfgFlagGSO,
	})
	if err != nil {
		return nil, fmt.Errorf("open nfqueue %d: %w", num, err)
	}
	_ = nf.SetOption(netlink.NoENOBUFS, true)
	q := &delayQueue{nf: nf, delay: delay, jitter: jitter, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	cancel, err := listenQueue(nf, num, "delay", q.hold)
	if err != nil {
		nf.Close()
		return nil, err
	}
	q.cancel = cancel
	return q, nil
}

// listenQueue starts the receive loop of an open NFQUEUE, calling fn for
// each queued packet, until the returned cancel is called. A receive error
// other than a timeout ends the loop; the queue's fail-open (bypass) flag
// then lets packets through, so a dead listener never blackholes a node.
// what names the fault in the log line.
func listenQueue(nf *nfqueue.Nfqueue, num uint16, what string, fn nfqueue.HookFunc) (context.CancelFunc, error) {
	ctx, cancel := context.WithCancel(context.Background())
	errfn := func(err error) int {
		if ctx.Err() != nil {
			return 1
		}
		var op *netlink.OpError
		if errors.As(err, &op) && (op.Timeout() || op.Temporary()) {
			return 0
		}
		slog.Warn("nfqueue receive failed; packets bypass the "+what, "queue", num, "err", err)
		return 1
	}
	if err := nf.RegisterWithErrorFunc(ctx, fn, errfn); err != nil {
		cancel()
		return nil, fmt.Errorf("bind nfqueue %d: %w", num, err)
	}
	return cancel, nil
}

// hold schedules the accept verdict for one packet. It must return quickly:
// the receive loop calls it for every queued packet.
func (q *delayQueue) hold(a nfqueue.Attribute) int {
	if a.PacketID == nil {
		return 0
	}
	id, arrived := *a.PacketID, time.Now()
	q.pending.Add(1)
	time.AfterFunc(q.next(), func() {
		defer q.pending.Done()
		// Timed before the release: once the verdict is set the packet is
		// on its way, and a pause of the agent then is not time it held it.
		held := time.Since(arrived)
		if err := q.nf.SetVerdict(id, nfqueue.NfAccept); err != nil {
			slog.Debug("set nfqueue verdict", "err", err)
			return
		}
		q.heldNS.Add(int64(held))
		q.released.Add(1)
	})
	return 0
}

// next draws a delay uniformly from [delay-jitter, delay+jitter].
func (q *delayQueue) next() time.Duration {
	if q.jitter == 0 {
		return q.delay
	}
	q.mu.Lock()
	j := q.rng.Int64N(int64(2*q.jitter) + 1)
	q.mu.Unlock()
	return q.delay - q.jitter + time.Duration(j)
}

func (q *delayQueue) measure() Measured {
	m := Measured{PacketsDelayed: q.released.Load()}
	if m.PacketsDelayed > 0 {
		m.MeanDelayMS = float64(q.heldNS.Load()) / float64(m.PacketsDelayed) / 1e6
	}
	return m
}

// drain waits (at most limit) for every held packet to be released.
func (q *delayQueue) drain(limit time.Duration) {
	done := make(chan struct{})
	go func() { q.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		slog.Warn("nfqueue drain timed out; remaining packets are dropped")
	}
}

func (q *delayQueue) close() {
	q.cancel()
	_ = q.nf.Close()
}

// probeNFQueue checks that a queue can be bound here.
func probeNFQueue() bool {
	q, err := openDelayQueue(queueBase, time.Millisecond, 0, 1)
	if err != nil {
		return false
	}
	q.close()
	return true
}

// seedFrom derives a jitter seed from a fault id when none is given, so the
// same scenario repeats the same delays.
func seedFrom(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
