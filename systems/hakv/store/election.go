package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// retryTimeout is how long a candidate waits before trying again after an
// election that did not conclude (a split vote, no majority reachable). It
// is shorter than the first timeout: by then a majority has already said it
// hears no primary, so only a tie is being broken.
func (n *Node) retryTimeout() time.Duration {
	f := n.cfg.FailoverTimeout
	return f/4 + rand.N(f/4+1)
}

// campaign runs when a standby has heard no primary for its election
// timeout. Unilateral: promote at once. Quorum: a pre-vote round, then a
// real one in a new epoch; either needs a majority.
func (n *Node) campaign() {
	defer func() {
		n.mu.Lock()
		n.electing = false
		n.mu.Unlock()
	}()
	n.mu.Lock()
	if n.role == RolePrimary || n.broken != nil {
		n.mu.Unlock()
		return
	}
	if n.cfg.Election == Unilateral {
		defer n.mu.Unlock()
		n.promoteUnilaterally()
		return
	}
	n.setRole(RoleCandidate, "no primary heard within the failover timeout")
	n.electAt = time.Now().Add(n.retryTimeout())
	pre := n.voteRequest(n.epoch+1, true)
	n.mu.Unlock()
	if !n.collectVotes(pre) {
		return
	}
	n.mu.Lock()
	if n.role != RoleCandidate || n.epoch+1 != pre.Epoch {
		n.mu.Unlock()
		return
	}
	n.epoch, n.votedFor, n.primary = pre.Epoch, n.cfg.ID, ""
	if err := n.persist(); err != nil {
		n.failDisk(err)
		n.mu.Unlock()
		return
	}
	req := n.voteRequest(n.epoch, false)
	n.electAt = time.Now().Add(n.retryTimeout())
	n.mu.Unlock()
	if !n.collectVotes(req) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.role == RoleCandidate && n.epoch == req.Epoch && n.broken == nil {
		n.becomePrimary(fmt.Sprintf("won the election for epoch %d", req.Epoch))
	}
}

// promoteUnilaterally is the naive failover: no votes, just a new epoch.
func (n *Node) promoteUnilaterally() {
	n.epoch, n.votedFor, n.primary = n.epoch+1, n.cfg.ID, ""
	if err := n.persist(); err != nil {
		n.failDisk(err)
		return
	}
	n.becomePrimary(fmt.Sprintf("no heartbeat within the failover timeout; promoting without votes (epoch %d)", n.epoch))
}

func (n *Node) voteRequest(epoch uint64, pre bool) VoteRequest {
	return VoteRequest{
		Epoch: epoch, Candidate: n.cfg.ID, PreVote: pre,
		LastIndex: n.lastIndex(), LastEpoch: n.lastEpoch(),
	}
}

// collectVotes asks every peer at once and returns true as soon as a
// majority (this node included) granted, without waiting for slow or dead
// peers. A later epoch in an answer ends the attempt.
func (n *Node) collectVotes(req VoteRequest) bool {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.FailoverTimeout/2)
	defer cancel()
	answers := make(chan VoteResponse, len(n.peers))
	for _, p := range n.peers {
		go func() {
			var r VoteResponse
			if err := n.client.call(ctx, p.Addr, pathVote, req, &r); err != nil {
				r = VoteResponse{Reason: err.Error()}
			}
			answers <- r
		}()
	}
	granted := 1
	for answered := 0; granted < n.cfg.majority() && answered < len(n.peers); answered++ {
		select {
		case <-ctx.Done():
			return false
		case r := <-answers:
			if r.Granted {
				granted++
				continue
			}
			n.mu.Lock()
			if r.Epoch > n.epoch {
				n.adoptEpoch(r.Epoch, fmt.Sprintf("a voter is at epoch %d", r.Epoch))
				n.mu.Unlock()
				return false
			}
			n.mu.Unlock()
		}
	}
	ok := granted >= n.cfg.majority()
	n.logger.Debug("votes counted", "epoch", req.Epoch, "pre_vote", req.PreVote, "granted", granted, "won", ok)
	return ok
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// handleVote is the voter's side (POST /internal/vote). A vote goes only to
// a candidate whose log is at least as up to date as this node's, and only
// from a node that has not heard a live primary within the vote guard; a
// refusal for that reason leaves the epoch alone, so a node that was cut off
// cannot disturb a working primary.
func (n *Node) handleVote(req VoteRequest) VoteResponse {
	n.mu.Lock()
	defer n.mu.Unlock()
	deny := func(reason string) VoteResponse {
		return VoteResponse{Epoch: n.epoch, Reason: reason}
	}
	now := time.Now()
	switch {
	case n.broken != nil:
		return deny("disk error")
	case n.cfg.Election == Unilateral:
		return deny("unilateral election takes no votes")
	case req.Epoch < n.epoch || req.PreVote && req.Epoch == n.epoch:
		return deny("stale epoch")
	case n.role == RolePrimary:
		return deny("is primary")
	case now.Sub(n.lastHeard) < n.cfg.voteGuard():
		return deny("heard a live primary recently")
	}
	upToDate := req.LastEpoch > n.lastEpoch() ||
		req.LastEpoch == n.lastEpoch() && req.LastIndex >= n.lastIndex()
	if !upToDate {
		// The primary is gone and this node has more of the log than the
		// candidate: stand soon, rather than wait out a whole timeout.
		n.electAt = minTime(n.electAt, now.Add(rand.N(n.cfg.FailoverTimeout/8+1)))
	}
	if req.PreVote {
		if !upToDate {
			return deny("log behind")
		}
		return VoteResponse{Epoch: n.epoch, Granted: true}
	}
	if req.Epoch > n.epoch {
		n.adoptEpoch(req.Epoch, fmt.Sprintf("%s stands for epoch %d", req.Candidate, req.Epoch))
		if n.broken != nil {
			return deny("disk error")
		}
	}
	if !upToDate {
		return deny("log behind")
	}
	if n.votedFor != "" && n.votedFor != req.Candidate {
		return deny("voted for " + n.votedFor)
	}
	n.votedFor = req.Candidate
	if err := n.persist(); err != nil {
		n.failDisk(err)
		return deny("disk error")
	}
	n.resetElectionTimer(now)
	n.logger.Info("voted", "for", req.Candidate, "epoch", req.Epoch)
	return VoteResponse{Epoch: n.epoch, Granted: true}
}
