package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Internal endpoints, spoken between nodes as JSON over HTTP POST.
const (
	pathAppend = "/internal/append"
	pathVote   = "/internal/vote"
)

// AppendRequest replicates entries (or, empty, is a heartbeat). A standby
// accepts it only if it has the entry at PrevIndex with epoch PrevEpoch, so
// the logs agree on everything before the new entries.
type AppendRequest struct {
	Epoch        uint64  `json:"epoch"`
	Leader       string  `json:"leader"`
	PrevIndex    uint64  `json:"prev_index"`
	PrevEpoch    uint64  `json:"prev_epoch"`
	Entries      []Entry `json:"entries"`
	LeaderCommit uint64  `json:"leader_commit"`
}

// Reasons an AppendResponse gives for refusing.
const (
	reasonStaleEpoch = "stale epoch"   // the sender is fenced: a later epoch exists
	reasonMismatch   = "log mismatch"  // back up to Hint and retry
	reasonPrimary    = "is primary"    // unilateral: this node will not yield
	reasonOtherLead  = "other primary" // unilateral: another primary holds this epoch
	reasonDisk       = "disk error"
)

// AppendResponse answers an AppendRequest. Epoch is the responder's epoch
// after handling it: a higher one than the sender's deposes a quorum primary.
type AppendResponse struct {
	Epoch      uint64 `json:"epoch"`
	Success    bool   `json:"success"`
	MatchIndex uint64 `json:"match_index,omitempty"` // on success: the last index known equal to the primary's
	Hint       uint64 `json:"hint,omitempty"`        // on mismatch: the next index worth trying
	Reason     string `json:"reason,omitempty"`
}

// VoteRequest asks for a vote. With PreVote set nothing changes on the voter:
// it only says whether it would vote, so that a node cut off from the others
// cannot inflate its epoch and depose a healthy primary when it returns.
type VoteRequest struct {
	Epoch     uint64 `json:"epoch"`
	Candidate string `json:"candidate"`
	LastIndex uint64 `json:"last_index"`
	LastEpoch uint64 `json:"last_epoch"`
	PreVote   bool   `json:"pre_vote"`
}

// VoteResponse answers a VoteRequest.
type VoteResponse struct {
	Epoch   uint64 `json:"epoch"`
	Granted bool   `json:"granted"`
	Reason  string `json:"reason,omitempty"`
}

// peerClient sends internal requests. Host names are resolved on every dial,
// so a peer whose name does not resolve yet is simply unreachable for now.
type peerClient struct {
	hc *http.Client
}

func newPeerClient(dialTimeout time.Duration) *peerClient {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 15 * time.Second}
	tr := &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &peerClient{hc: &http.Client{Transport: tr}}
}

// call posts req as JSON to addr+path and decodes the answer into resp.
func (c *peerClient) call(ctx context.Context, addr, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	res, err := c.hc.Do(hr)
	if err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("post %s: %s: %s", path, res.Status, bytes.TrimSpace(b))
	}
	if err := json.NewDecoder(res.Body).Decode(resp); err != nil {
		return fmt.Errorf("decode %s answer: %w", path, err)
	}
	return nil
}

func (c *peerClient) close() { c.hc.CloseIdleConnections() }
