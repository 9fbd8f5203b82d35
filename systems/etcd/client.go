package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/workload"
)

// NewClient opens one etcd client per member, each bound to that member's
// published port alone, so that the workload decides which member serves
// each operation and the history says which one did.
func (System) NewClient(_ context.Context, c *cluster.Cluster, _ int) (systems.Client, error) {
	cl := &client{c: c, members: map[string]*member{}}
	if err := cl.connect(c.ClientAddrs()); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// client is the workload's KV over etcd.
//
//	what happened                                      write, cas   read
//	ok; Txn not Succeeded (value differed)             ok; 412      ok
//	no connection made (refused, no route)             fail         fail
//	"no leader", "too many requests" (refused upfront) fail         fail
//	deadline, "request timed out", leader changed,     info         fail
//	  connection lost after sending
type client struct {
	c *cluster.Cluster

	mu      sync.RWMutex
	members map[string]*member
	names   []string
}

type member struct {
	addr string
	cli  *clientv3.Client
}

func (cl *client) connect(addrs map[string]string) error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for name, addr := range addrs {
		if m, ok := cl.members[name]; ok && m.addr == addr {
			continue
		}
		cli, err := clientv3.New(clientv3.Config{
			Endpoints:            []string{"http://" + addr},
			DialTimeout:          2 * time.Second,
			DialKeepAliveTime:    5 * time.Second,
			DialKeepAliveTimeout: 2 * time.Second,
			Logger:               zap.NewNop(),
		})
		if err != nil {
			return fmt.Errorf("connect to etcd member %s at %s: %w", name, addr, err)
		}
		if old, ok := cl.members[name]; ok {
			old.cli.Close()
		}
		cl.members[name] = &member{addr: addr, cli: cli}
	}
	names := make([]string, 0, len(cl.members))
	for n := range cl.members {
		names = append(names, n)
	}
	slices.Sort(names)
	cl.names = names
	return nil
}

// Refresh reconnects to members whose published port changed.
func (cl *client) Refresh() {
	if err := cl.connect(cl.c.ClientAddrs()); err != nil {
		// The old connection stays; operations on it fail and say why.
		_ = err
	}
}

// Close closes every member's client.
func (cl *client) Close() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var errs []error
	for _, m := range cl.members {
		errs = append(errs, m.cli.Close())
	}
	cl.members = map[string]*member{}
	return errors.Join(errs...)
}

// Nodes lists the members in name order.
func (cl *client) Nodes() []string {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	return cl.names
}

func (cl *client) kv(node string) (*clientv3.Client, error) {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	m, ok := cl.members[node]
	if !ok {
		return nil, fmt.Errorf("on %s: %w: unknown member", node, workload.ErrRejected)
	}
	return m.cli, nil
}

// Get is a linearizable read (etcd's default): the member confirms with the
// leader that its copy is current before answering.
func (cl *client) Get(ctx context.Context, node, key string) (string, bool, error) {
	c, err := cl.kv(node)
	if err != nil {
		return "", false, err
	}
	resp, err := c.Get(ctx, key)
	if err != nil {
		return "", false, classify(node, err)
	}
	if len(resp.Kvs) == 0 {
		return "", false, nil
	}
	return string(resp.Kvs[0].Value), true, nil
}

// Put writes key.
func (cl *client) Put(ctx context.Context, node, key, value string) error {
	c, err := cl.kv(node)
	if err != nil {
		return err
	}
	_, err = c.Put(ctx, key, value)
	return classify(node, err)
}

// CAS is one transaction: if the value is from, put to. A transaction that
// did not succeed was served and changed nothing: ErrPrecondition.
func (cl *client) CAS(ctx context.Context, node, key, from, to string) error {
	c, err := cl.kv(node)
	if err != nil {
		return err
	}
	resp, err := c.Txn(ctx).
		If(clientv3.Compare(clientv3.Value(key), "=", from)).
		Then(clientv3.OpPut(key, to)).
		Commit()
	if err != nil {
		return classify(node, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("on %s: %w", node, workload.ErrPrecondition)
	}
	return nil
}

// Scan reads every key with the prefix, linearizably.
func (cl *client) Scan(ctx context.Context, node, prefix string) (map[string]string, error) {
	c, err := cl.kv(node)
	if err != nil {
		return nil, err
	}
	resp, err := c.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, classify(node, err)
	}
	out := make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = string(kv.Value)
	}
	return out, nil
}

// classify marks the errors after which etcd certainly did not apply the
// request as definite (workload.ErrNotApplied). Everything else stays
// indeterminate: a proposal that timed out may still commit.
func classify(node string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(rpctypes.Error(err), rpctypes.ErrNoLeader),
		errors.Is(rpctypes.Error(err), rpctypes.ErrTooManyRequests):
		// Refused by the member's interceptor before any proposal.
		return fmt.Errorf("on %s: %w: %w", node, workload.ErrRejected, err)
	case neverSent(err):
		return fmt.Errorf("on %s: %w: %w", node, workload.ErrUnreachable, err)
	}
	return fmt.Errorf("on %s: %w", node, err)
}

// neverSent reports a gRPC Unavailable that happened while dialing: no
// connection existed, so the request never left the client.
func neverSent(err error) bool {
	s, ok := status.FromError(err)
	if !ok || s.Code() != codes.Unavailable {
		return false
	}
	msg := s.Message()
	for _, m := range []string{"connection refused", "no route to host", "there is no address available", "produced zero addresses"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
