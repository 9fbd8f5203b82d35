package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Batch limits for one append request.
const (
	maxBatchEntries = 512
	maxBatchBytes   = 4 << 20
)

// leadership is a primary's state for one epoch. It is replaced, never
// reused, so a replicator or a waiting write can tell whether the epoch it
// served is still the current one by comparing pointers.
type leadership struct {
	epoch      uint64
	electedAt  time.Time
	startIndex uint64 // the no-op that opened the epoch
	selfMatch  uint64 // last index durable on this node
	semiSyncOn bool
	// appendedAt[i] is when entry startIndex+i was appended, for
	// --ship-delay.
	appendedAt []time.Time
	peers      []*progress
	cancel     context.CancelFunc
}

// progress is what the primary knows of one standby.
type progress struct {
	peer    Peer
	next    uint64    // next index to send
	match   uint64    // last index known to be on the standby
	ackSent time.Time // send time of the latest request it answered as our follower
	down    bool      // unreachable at the last try (logged once)
	wake    chan struct{}
}

// leaseUntil is when this primary stops being sure that no other primary
// exists: a majority (itself included) answered requests sent after
// leaseUntil - lease, and none of them votes until the vote guard (longer
// than the lease) has passed since.
func (ls *leadership) leaseUntil(cfg *Config) time.Time {
	need := cfg.majority() - 1
	if need <= 0 {
		return time.Now().Add(time.Hour)
	}
	acks := make([]time.Time, len(ls.peers))
	for i, p := range ls.peers {
		acks[i] = p.ackSent
	}
	slices.SortFunc(acks, func(a, b time.Time) int { return b.Compare(a) })
	return acks[need-1].Add(cfg.lease())
}

// holdUntil is when a quorum primary without a lease steps down. A new
// primary gets one lease period to collect its first acknowledgements.
func (ls *leadership) holdUntil(cfg *Config) time.Time {
	l := ls.leaseUntil(cfg)
	if first := ls.electedAt.Add(cfg.lease()); first.After(l) {
		return first
	}
	return l
}

// becomePrimary takes over the current epoch: append a no-op in it (reads
// wait until it commits) and start one replicator per standby.
func (n *Node) becomePrimary(reason string) {
	ctx, cancel := context.WithCancel(n.ctx)
	ls := &leadership{
		epoch: n.epoch, electedAt: time.Now(), semiSyncOn: true,
		selfMatch: n.lastIndex(), cancel: cancel,
	}
	for _, p := range n.peers {
		ls.peers = append(ls.peers, &progress{peer: p, next: n.lastIndex() + 1, wake: make(chan struct{}, 1)})
	}
	n.lead, n.primary = ls, n.cfg.ID
	n.setRole(RolePrimary, reason)
	idx, gen, err := n.appendLocal(Entry{Op: OpNoop})
	if err != nil {
		return
	}
	ls.startIndex = idx
	for _, pr := range ls.peers {
		n.goLoop(func() { n.replicate(ctx, ls, pr) })
	}
	n.goLoop(func() { n.syncLocal(ls, idx, gen) })
}

// appendLocal adds an entry of the current epoch to the primary's log and
// wakes the replicators. It returns the entry's index and the log
// generation to sync to; the entry is durable only after syncLocal.
func (n *Node) appendLocal(e Entry) (uint64, uint64, error) {
	e.Index, e.Epoch = n.lastIndex()+1, n.epoch
	gen, err := n.wal.Append([]Entry{e})
	if err != nil {
		n.failDisk(err)
		return 0, 0, err
	}
	n.entries = append(n.entries, e)
	n.lead.appendedAt = append(n.lead.appendedAt, time.Now())
	for _, pr := range n.lead.peers {
		select {
		case pr.wake <- struct{}{}:
		default:
		}
	}
	return e.Index, gen, nil
}

// syncLocal makes the primary's log durable up to idx (sharing the fsync
// with concurrent writers) and counts this node's own copy.
func (n *Node) syncLocal(ls *leadership, idx, gen uint64) {
	err := n.wal.SyncTo(gen)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		n.failDisk(err)
		return
	}
	if n.lead != ls || idx <= ls.selfMatch {
		return
	}
	ls.selfMatch = idx
	n.advanceCommit(ls)
}

// advanceCommit moves the commit index as far as the replication mode allows.
func (n *Node) advanceCommit(ls *leadership) {
	switch n.cfg.Replication {
	case Async:
		n.setCommit(ls.selfMatch)
	case SemiSync:
		if !ls.semiSyncOn || len(ls.peers) == 0 {
			n.setCommit(ls.selfMatch)
			return
		}
		var best uint64
		for _, p := range ls.peers {
			best = max(best, p.match)
		}
		n.setCommit(min(best, ls.selfMatch))
	case Sync:
		matches := []uint64{ls.selfMatch}
		for _, p := range ls.peers {
			matches = append(matches, p.match)
		}
		slices.SortFunc(matches, func(a, b uint64) int { return cmp.Compare(b, a) })
		c := matches[n.cfg.majority()-1]
		// Only an entry of this epoch is committed by counting copies; the
		// earlier ones follow it (Raft's rule, which is why the no-op exists).
		if c > n.commit && n.epochAt(c) == ls.epoch {
			n.setCommit(c)
		}
	}
}

// semiSyncFallback is MySQL's rpl_semi_sync_master_timeout: no standby
// answered in time, so the primary acknowledges on its own until one
// catches up.
func (n *Node) semiSyncFallback(ls *leadership) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lead != ls || !ls.semiSyncOn {
		return
	}
	ls.semiSyncOn = false
	n.logger.Warn("semi-sync: no standby acknowledged in time; acknowledging writes alone",
		"timeout", n.cfg.SemiSyncTimeout)
	n.advanceCommit(ls)
}

// replicate feeds one standby: entries as they come, or a heartbeat every
// --heartbeat. One request is in flight at a time.
func (n *Node) replicate(ctx context.Context, ls *leadership, pr *progress) {
	hb := time.NewTicker(n.cfg.Heartbeat)
	defer hb.Stop()
	for {
		req, ok := n.nextAppend(ls, pr)
		if !ok {
			return
		}
		sent := time.Now()
		rctx, cancel := context.WithTimeout(ctx, n.cfg.FailoverTimeout/2)
		var resp AppendResponse
		err := n.client.call(rctx, pr.peer.Addr, pathAppend, req, &resp)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if n.handleAppendResult(ls, pr, sent, resp, err) {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-pr.wake:
		case <-hb.C:
		}
	}
}

// nextAppend builds the next request for a standby, or false when this
// leadership is over.
func (n *Node) nextAppend(ls *leadership, pr *progress) (AppendRequest, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lead != ls {
		return AppendRequest{}, false
	}
	prev := pr.next - 1
	req := AppendRequest{
		Epoch: ls.epoch, Leader: n.cfg.ID, PrevIndex: prev,
		PrevEpoch: n.epochAt(prev), LeaderCommit: n.commit,
	}
	end, size := pr.next, 0
	for end <= n.shippable(ls) && end-pr.next < maxBatchEntries && (size < maxBatchBytes || end == pr.next) {
		e := n.entries[end-1]
		size += len(e.Key) + len(e.Value) + len(e.If) + 64
		end++
	}
	// A copy: a later truncation must not change what is being encoded.
	req.Entries = slices.Clone(n.entries[pr.next-1 : end-1])
	return req, true
}

// shippable is the last index the replicators may send: every entry, or
// with --ship-delay only those at least that old. Entries of an earlier
// epoch (before this leadership's no-op) are always old enough.
func (n *Node) shippable(ls *leadership) uint64 {
	last := n.lastIndex()
	if n.cfg.ShipDelay <= 0 || ls.startIndex == 0 {
		return last
	}
	cutoff := time.Now().Add(-n.cfg.ShipDelay)
	// appendedAt is in append order, so the entries old enough are a prefix.
	k, _ := slices.BinarySearchFunc(ls.appendedAt, cutoff, func(t, c time.Time) int {
		if t.After(c) {
			return 1
		}
		return -1
	})
	return min(last, ls.startIndex+uint64(k)-1)
}

// handleAppendResult updates a standby's progress; true means "send again
// now" (more entries, or a retry further back after a mismatch).
func (n *Node) handleAppendResult(ls *leadership, pr *progress, sent time.Time, resp AppendResponse, err error) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lead != ls {
		return false
	}
	if err != nil {
		if !pr.down {
			pr.down = true
			n.logger.Warn("standby unreachable", "peer", pr.peer.ID, "err", err)
		}
		return false
	}
	if pr.down {
		pr.down = false
		n.logger.Info("standby reachable again", "peer", pr.peer.ID)
	}
	if resp.Epoch > ls.epoch {
		n.higherEpochSeen(pr.peer.ID, resp.Epoch)
		return false
	}
	switch {
	case resp.Success:
		if sent.After(pr.ackSent) {
			pr.ackSent = sent
		}
		pr.match = max(pr.match, resp.MatchIndex)
		pr.next = pr.match + 1
		if !ls.semiSyncOn && pr.match >= n.lastIndex() {
			ls.semiSyncOn = true
			n.logger.Info("semi-sync: a standby caught up; waiting for standbys again", "peer", pr.peer.ID)
		}
		n.advanceCommit(ls)
		n.notifyChanged()
		return pr.next <= n.lastIndex()
	case resp.Reason == reasonMismatch:
		// The standby follows us (it took our epoch); only its log differs.
		if sent.After(pr.ackSent) {
			pr.ackSent = sent
		}
		pr.next = max(pr.match+1, min(pr.next-1, resp.Hint), 1)
		return true
	case resp.Reason == reasonPrimary || resp.Reason == reasonOtherLead:
		n.warnSplit(pr.peer.ID, resp.Epoch)
	}
	return false
}

// higherEpochSeen: a standby answered with a later epoch. A quorum primary
// has been superseded and steps down; a unilateral one keeps serving, which
// is the split brain that setting exists to show.
func (n *Node) higherEpochSeen(peer string, epoch uint64) {
	if n.cfg.Election == Unilateral {
		n.warnSplit(peer, epoch)
		return
	}
	n.adoptEpoch(epoch, fmt.Sprintf("deposed: %s is at epoch %d", peer, epoch))
}

// warnSplit logs, once per peer and epoch, that another primary exists.
func (n *Node) warnSplit(peer string, epoch uint64) {
	if n.warned[peer] == epoch {
		return
	}
	n.warned[peer] = epoch
	n.logger.Warn("split brain: another node acts as primary; unilateral election keeps serving",
		"peer", peer, "peer_epoch", epoch, "epoch", n.epoch)
}
