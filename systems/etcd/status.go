package etcd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/hadrill/hadrill/cluster"
)

// probeHealth is GET /health, which etcd answers {"health":"true"} only when
// the member has a leader.
func probeHealth(ctx context.Context, addr string) error {
	body, err := call(ctx, http.MethodGet, "http://"+addr+"/health", nil)
	if err != nil {
		return err
	}
	var h struct {
		Health string `json:"health"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("decode /health: %w", err)
	}
	if h.Health != "true" {
		return errors.New("etcd /health: false (no leader yet)")
	}
	return nil
}

// memberState is what a member says of itself in /v3/maintenance/status (the
// gRPC gateway writes 64-bit numbers as strings).
type memberState struct {
	Header struct {
		MemberID string `json:"member_id"`
		RaftTerm string `json:"raft_term"`
	} `json:"header"`
	Leader string `json:"leader"`
}

// memberStatus asks one member for its status.
func memberStatus(ctx context.Context, addr string) (memberState, error) {
	var st memberState
	body, err := call(ctx, http.MethodPost, "http://"+addr+"/v3/maintenance/status", []byte("{}"))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("decode status: %w", err)
	}
	return st, nil
}

func call(ctx context.Context, method, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := cluster.ProbeClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: status %d", method, url, resp.StatusCode)
	}
	return b, nil
}

// Claims asks every member at once what it knows: a member is "primary"
// when it is the leader it reports, "follower" otherwise, and Epoch is its
// Raft term. A partitioned old leader keeps saying it leads until its term
// ends, which is what the report's primary panel should show.
func (System) Claims(ctx context.Context, nodes []*cluster.Node) ([]cluster.Claim, error) {
	claims := make([]cluster.Claim, len(nodes))
	ids := make([]string, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			c := cluster.Claim{Node: n.Name()}
			cctx, cancel := context.WithTimeout(ctx, System{}.Health().Timeout)
			defer cancel()
			st, err := memberStatus(cctx, n.ClientAddr())
			if err != nil {
				c.Err = fmt.Errorf("ask %s for status: %w", n.Name(), err)
				claims[i] = c
				return
			}
			c.Epoch, _ = strconv.ParseUint(st.Header.RaftTerm, 10, 64)
			c.Role = "follower"
			if st.Leader != "" && st.Leader == st.Header.MemberID {
				c.Role = "primary"
			}
			ids[i] = st.Leader
			claims[i] = c
		})
	}
	wg.Wait()
	// Name the leader each member believes in, by the member that says
	// it is that leader.
	byID := map[string]string{}
	for i, c := range claims {
		if c.Role == "primary" {
			byID[ids[i]] = c.Node
		}
	}
	for i := range claims {
		claims[i].Primary = byID[ids[i]]
	}
	return claims, nil
}

// Primary is the member that says it leads in the highest term.
func (s System) Primary(ctx context.Context, nodes []*cluster.Node) (string, error) {
	claims, err := s.Claims(ctx, nodes)
	if err != nil {
		return "", err
	}
	best := -1
	for i, c := range claims {
		if c.Err == nil && c.Role == "primary" && (best < 0 || c.Epoch > claims[best].Epoch) {
			best = i
		}
	}
	if best < 0 {
		return "", cluster.ErrNoPrimary
	}
	return claims[best].Node, nil
}
