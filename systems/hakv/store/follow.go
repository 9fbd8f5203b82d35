package store

import (
	"fmt"
	"time"
)

// handleAppend is the standby's side of replication (POST /internal/append).
// It fences stale primaries, checks that its log matches the primary's at
// PrevIndex, drops a conflicting suffix, appends durably and then answers.
func (n *Node) handleAppend(req AppendRequest) AppendResponse {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.broken != nil {
		return AppendResponse{Epoch: n.epoch, Reason: reasonDisk}
	}
	if resp, refused := n.admitPrimary(req); refused {
		return resp
	}
	if err := checkEntries(req); err != nil {
		return AppendResponse{Epoch: n.epoch, Reason: err.Error()}
	}
	if req.PrevIndex > n.lastIndex() {
		return AppendResponse{Epoch: n.epoch, Reason: reasonMismatch, Hint: n.lastIndex() + 1}
	}
	if got := n.epochAt(req.PrevIndex); got != req.PrevEpoch {
		return AppendResponse{Epoch: n.epoch, Reason: reasonMismatch, Hint: n.firstIndexOfEpoch(req.PrevIndex)}
	}
	if err := n.appendFromPrimary(req.Entries); err != nil {
		n.failDisk(err)
		return AppendResponse{Epoch: n.epoch, Reason: reasonDisk}
	}
	match := req.PrevIndex + uint64(len(req.Entries))
	n.setCommit(min(req.LeaderCommit, match))
	return AppendResponse{Epoch: n.epoch, Success: true, MatchIndex: match}
}

// admitPrimary decides whether the sender is this node's primary. It
// refuses a lower epoch (fencing), and in unilateral mode a primary refuses
// to yield at all. Accepting resets the election timer.
func (n *Node) admitPrimary(req AppendRequest) (AppendResponse, bool) {
	refuse := func(reason string) (AppendResponse, bool) {
		return AppendResponse{Epoch: n.epoch, Reason: reason}, true
	}
	if req.Epoch < n.epoch {
		if n.warned["stale:"+req.Leader] != req.Epoch {
			n.warned["stale:"+req.Leader] = req.Epoch
			n.logger.Warn("refused replication from a stale epoch", "from", req.Leader,
				"their_epoch", req.Epoch, "epoch", n.epoch)
		}
		return refuse(reasonStaleEpoch)
	}
	if n.role == RolePrimary && n.cfg.Election == Unilateral {
		n.warnSplit(req.Leader, req.Epoch)
		return refuse(reasonPrimary)
	}
	if req.Epoch == n.epoch && (n.role == RolePrimary || n.primary != "" && n.primary != req.Leader) {
		return refuse(reasonOtherLead)
	}
	if req.Epoch > n.epoch {
		n.adoptEpoch(req.Epoch, fmt.Sprintf("%s is primary at epoch %d", req.Leader, req.Epoch))
		if n.broken != nil {
			return refuse(reasonDisk)
		}
	}
	if n.role == RoleCandidate {
		n.setRole(RoleStandby, fmt.Sprintf("%s is primary at epoch %d", req.Leader, req.Epoch))
	}
	if n.primary != req.Leader {
		n.logger.Info("following primary", "primary", req.Leader, "epoch", req.Epoch)
	}
	now := time.Now()
	n.primary, n.lastHeard = req.Leader, now
	n.resetElectionTimer(now)
	return AppendResponse{}, false
}

// checkEntries rejects a request whose entries are not the consecutive run
// after PrevIndex, from epochs no later than the request's.
func checkEntries(req AppendRequest) error {
	for i, e := range req.Entries {
		if e.Index != req.PrevIndex+uint64(i)+1 || e.Epoch > req.Epoch || e.Epoch == 0 {
			return fmt.Errorf("bad entry %d at position %d", e.Index, i)
		}
	}
	return nil
}

// firstIndexOfEpoch finds where the run of entries sharing index's epoch
// starts, so a primary backs up past a whole deposed epoch in one step.
func (n *Node) firstIndexOfEpoch(index uint64) uint64 {
	e := n.epochAt(index)
	for index > 1 && n.epochAt(index-1) == e {
		index--
	}
	return max(index, 1)
}

// appendFromPrimary skips entries already held, truncates at the first
// conflict and appends the rest, durably before the answer.
func (n *Node) appendFromPrimary(entries []Entry) error {
	for i, e := range entries {
		if e.Index <= n.lastIndex() {
			if n.epochAt(e.Index) == e.Epoch {
				continue
			}
			if err := n.truncateLog(e.Index); err != nil {
				return err
			}
		}
		fresh := entries[i:]
		if _, err := n.wal.Append(fresh); err != nil {
			return err
		}
		if err := n.wal.Sync(); err != nil {
			return err
		}
		n.entries = append(n.entries, fresh...)
		return nil
	}
	return nil
}
