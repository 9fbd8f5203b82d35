package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Role is a node's part in the cluster, as /status reports it.
type Role string

// Roles.
const (
	RoleStandby   Role = "standby"
	RoleCandidate Role = "candidate"
	RolePrimary   Role = "primary"
)

// tickInterval is how often timers (elections, leases) are checked.
const tickInterval = 10 * time.Millisecond

var errStopped = errors.New("node stopped")

// Node is one hakv process: its log, its state machine and its part in
// replication and elections. One mutex guards all of it; network and disk
// waits happen outside it, except a standby's log append.
type Node struct {
	cfg    Config
	logger *slog.Logger
	wal    *WAL
	peers  []Peer // the other members
	client *peerClient
	ctx    context.Context
	fatal  func(error)
	wg     sync.WaitGroup

	mu        sync.Mutex
	role      Role
	epoch     uint64
	votedFor  string
	primary   string // the primary of the current epoch, once heard
	entries   []Entry
	commit    uint64
	applied   uint64
	kv        *kvState
	waiters   map[uint64]*waiter
	lastHeard time.Time // last append accepted from a primary, or the start
	electAt   time.Time // when this standby or candidate stands for election
	electing  bool
	lead      *leadership // non-nil exactly while primary
	changed   chan struct{}
	broken    error             // a disk error or stop: nothing more is written
	warned    map[string]uint64 // peer -> epoch already warned about
}

// waiter is a client write waiting for its entry to be applied. epoch tells
// it apart from another entry that may replace it at the same index.
type waiter struct {
	epoch uint64
	ch    chan waitResult
}

type waitResult struct {
	res applyResult
	err error
}

// errOutcomeUnknown: the write reached the log but its fate is not known
// (the node stepped down, or replication timed out). Clients see 500.
var errOutcomeUnknown = errors.New("write outcome unknown")

// newNode recovers a node from its data folder: the log (cutting a torn
// tail) and the hard state. It always starts as a standby.
func newNode(cfg Config, logger *slog.Logger) (*Node, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	wal, entries, err := OpenWAL(filepath.Join(cfg.DataDir, "wal.log"), cfg.FsyncAlways, logger)
	if err != nil {
		return nil, err
	}
	st, err := loadState(cfg.DataDir)
	if err != nil {
		wal.Close()
		return nil, err
	}
	n := &Node{
		cfg: cfg, logger: logger, wal: wal, entries: entries,
		client:  newPeerClient(cfg.FailoverTimeout / 2),
		role:    RoleStandby,
		epoch:   st.Epoch,
		kv:      newKVState(),
		waiters: map[uint64]*waiter{},
		changed: make(chan struct{}),
		warned:  map[string]uint64{},
	}
	n.votedFor = st.VotedFor
	if le := n.lastEpoch(); le > n.epoch {
		n.epoch, n.votedFor = le, ""
	}
	for _, p := range cfg.Peers {
		if p.ID != cfg.ID {
			n.peers = append(n.peers, p)
		}
	}
	now := time.Now()
	// A restarted node may have acknowledged a primary's heartbeat just
	// before it died; refusing votes for the guard after starting keeps that
	// primary's lease honest.
	n.lastHeard = now
	n.resetElectionTimer(now)
	logger.Info("recovered", "entries", len(entries), "epoch", n.epoch, "voted_for", n.votedFor)
	return n, nil
}

// start runs the timers. fatal ends the process with an error.
func (n *Node) start(ctx context.Context, fatal func(error)) {
	n.ctx, n.fatal = ctx, fatal
	n.logger.Info("role change", "from", "", "to", RoleStandby, "epoch", n.epoch, "reason", "started")
	n.goLoop(n.tickLoop)
	if !n.cfg.FsyncAlways {
		n.goLoop(n.flushLoop)
	}
}

func (n *Node) goLoop(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// stop fails pending writes, stops writing and closes the log. The caller
// has cancelled the context given to start.
func (n *Node) stop() error {
	n.mu.Lock()
	if n.lead != nil {
		n.lead.cancel()
		n.lead = nil
	}
	n.failWaiters(0, errStopped)
	n.broken = errStopped
	n.mu.Unlock()
	n.wg.Wait()
	n.client.close()
	return n.wal.Close()
}

func (n *Node) tickLoop() {
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case now := <-t.C:
			n.tick(now)
		}
	}
}

// flushLoop hands the fsync=never buffer to the OS now and then.
func (n *Node) flushLoop() {
	t := time.NewTicker(n.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
			if err := n.wal.Flush(); err != nil {
				n.mu.Lock()
				n.failDisk(err)
				n.mu.Unlock()
				return
			}
		}
	}
}

func (n *Node) tick(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.broken != nil {
		return
	}
	if n.role == RolePrimary {
		if n.cfg.Election == Quorum && !now.Before(n.lead.holdUntil(&n.cfg)) {
			n.stepDown("lost lease: no majority answered a heartbeat in time")
		}
		return
	}
	if !n.electing && !now.Before(n.electAt) {
		n.electing = true
		n.goLoop(n.campaign)
	}
}

// electionTimeout is randomized between the failover timeout and 1.5 times
// it, so that two standbys rarely stand at the same moment.
func (n *Node) electionTimeout() time.Duration {
	f := n.cfg.FailoverTimeout
	return f + rand.N(f/2+1)
}

func (n *Node) resetElectionTimer(now time.Time) { n.electAt = now.Add(n.electionTimeout()) }

func (n *Node) setRole(r Role, reason string) {
	if n.role == r {
		return
	}
	n.logger.Info("role change", "from", n.role, "to", r, "epoch", n.epoch, "reason", reason)
	n.role = r
	n.notifyChanged()
}

// notifyChanged wakes readers waiting for a lease or a commit.
func (n *Node) notifyChanged() {
	close(n.changed)
	n.changed = make(chan struct{})
}

func (n *Node) lastIndex() uint64 { return uint64(len(n.entries)) }

func (n *Node) lastEpoch() uint64 { return n.epochAt(n.lastIndex()) }

// epochAt is the epoch of the entry at index, 0 for index 0.
func (n *Node) epochAt(index uint64) uint64 {
	if index == 0 || index > n.lastIndex() {
		return 0
	}
	return n.entries[index-1].Epoch
}

// knownPrimary is the primary this node would send a client to, or "" when
// it has not heard one within the failover timeout.
func (n *Node) knownPrimary(now time.Time) string {
	switch {
	case n.role == RolePrimary:
		return n.cfg.ID
	case n.primary != "" && now.Sub(n.lastHeard) < n.cfg.FailoverTimeout:
		return n.primary
	}
	return ""
}

func (n *Node) persist() error {
	return saveState(n.cfg.DataDir, hardState{Epoch: n.epoch, VotedFor: n.votedFor})
}

// adoptEpoch moves to a later epoch that some other node started. A quorum
// primary steps down; a candidate gives up.
func (n *Node) adoptEpoch(epoch uint64, why string) {
	n.epoch, n.votedFor, n.primary = epoch, "", ""
	if err := n.persist(); err != nil {
		n.failDisk(err)
		return
	}
	switch n.role {
	case RolePrimary:
		n.stepDown(why)
	case RoleCandidate:
		n.setRole(RoleStandby, why)
	}
}

// stepDown turns a primary into a standby. Pending writes get "outcome
// unknown": their entries may yet survive under the next primary.
func (n *Node) stepDown(reason string) {
	if n.lead != nil {
		n.lead.cancel()
		n.lead = nil
	}
	if n.primary == n.cfg.ID {
		n.primary = ""
	}
	n.failWaiters(0, errOutcomeUnknown)
	n.setRole(RoleStandby, reason)
	n.resetElectionTimer(time.Now())
}

// failDisk stops a node whose log cannot be written: acknowledging anything
// more would be a lie. The process exits with an error.
func (n *Node) failDisk(err error) {
	if n.broken != nil {
		return
	}
	n.logger.Error("disk error; stopping", "err", err)
	if n.role == RolePrimary {
		n.stepDown("disk error")
	}
	n.broken = err
	if n.fatal != nil {
		n.fatal(err)
	}
}

// failWaiters ends every waiting write at index from or later.
func (n *Node) failWaiters(from uint64, err error) {
	for idx, w := range n.waiters {
		if idx >= from {
			w.ch <- waitResult{err: err}
			delete(n.waiters, idx)
		}
	}
}

// setCommit advances the commit index (never past the log) and applies.
func (n *Node) setCommit(c uint64) {
	c = min(c, n.lastIndex())
	if c <= n.commit {
		return
	}
	n.commit = c
	for n.applied < n.commit {
		n.applied++
		e := n.entries[n.applied-1]
		res := n.kv.apply(e)
		if w, ok := n.waiters[e.Index]; ok {
			delete(n.waiters, e.Index)
			if w.epoch == e.Epoch {
				w.ch <- waitResult{res: res}
			} else {
				w.ch <- waitResult{err: errOutcomeUnknown}
			}
		}
	}
	n.notifyChanged()
}

// truncateLog drops entries from index on, because the primary has other
// ones there. With asynchronous replication these may be writes this node
// acknowledged as primary: that is the loss async replication allows, and
// it is logged as such.
func (n *Node) truncateLog(from uint64) error {
	dropped := n.lastIndex() - from + 1
	if err := n.wal.TruncateFrom(from); err != nil {
		return err
	}
	n.entries = slices.Clip(n.entries[:from-1])
	n.failWaiters(from, errOutcomeUnknown)
	if n.commit < from {
		n.logger.Info("truncated entries the primary does not have", "from", from, "count", dropped)
		return nil
	}
	n.logger.Warn("truncated committed entries the primary does not have; acknowledged writes are lost",
		"from", from, "count", dropped, "committed_lost", n.commit-from+1)
	// Rebuild the state machine from the surviving committed prefix.
	commit := from - 1
	n.commit, n.applied, n.kv = 0, 0, newKVState()
	n.setCommit(commit)
	return nil
}

// Status is the body of GET /status.
type Status struct {
	ID          string `json:"id"`
	Role        Role   `json:"role"`
	Epoch       uint64 `json:"epoch"`
	Primary     string `json:"primary"`
	LastIndex   uint64 `json:"last_index"`
	CommitIndex uint64 `json:"commit_index"`
}

func (n *Node) status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	return Status{
		ID: n.cfg.ID, Role: n.role, Epoch: n.epoch,
		Primary:   n.knownPrimary(time.Now()),
		LastIndex: n.lastIndex(), CommitIndex: n.commit,
	}
}
