// Package workload drives load against a cluster and records every client
// operation as history events: the operation generators, the recording
// client, the rate limiting, and the final read phase that RPO rests on.
//
// Correctness of every later check rests on one thing done here: classifying
// each outcome as ok, fail (certainly did not happen) or info (may have
// happened). The rules are in one place, [Classify], and the errors that feed
// them are typed, so a store client only has to say what it knows.
package workload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hadrill/hadrill/history"
)

// KV is what the workload needs from a store. The node is chosen by the
// caller, so that primary hints, trying another node and recording which node
// answered live in one place (the router) for every store.
//
// Errors must say whether the operation certainly did not take effect: such
// errors match [ErrNotApplied] with errors.Is. Any other error from a write is
// treated as indeterminate. A read of an absent key is found=false, err=nil.
type KV interface {
	// Nodes lists the node names in a stable order. The caller must not
	// modify the slice.
	Nodes() []string
	Get(ctx context.Context, node, key string) (value string, found bool, err error)
	Put(ctx context.Context, node, key, value string) error
	CAS(ctx context.Context, node, key, from, to string) error
	Scan(ctx context.Context, node, prefix string) (map[string]string, error)
}

// roleReporter is an optional KV capability: a node's own view of its role and
// of the primary. The final read uses it to scan only a node that says it is
// the primary, so a standby serving stale reads cannot hide or invent losses.
type roleReporter interface {
	Role(ctx context.Context, node string) (role, primary string, err error)
}

// ErrNotApplied is matched (errors.Is) by every error after which the
// operation certainly did not take effect. It is what makes a failed write a
// definite "fail" rather than an indeterminate "info".
var ErrNotApplied = errors.New("not applied")

// definite is an error class that certainly did not take effect.
type definite string

func (e definite) Error() string        { return string(e) }
func (e definite) Is(target error) bool { return target == ErrNotApplied }

// Definite error classes a KV returns (wrapped with context and the cause).
var (
	// ErrUnreachable: no connection was made, so the request never left.
	ErrUnreachable error = definite("node unreachable")
	// ErrPrecondition: a compare-and-set found another value (HTTP 412).
	ErrPrecondition error = definite("precondition failed")
	// ErrRejected: the node refused the request before acting on it (4xx).
	ErrRejected error = definite("rejected")
)

// NotPrimaryError is a node's refusal because it is not the primary. Primary
// is the node it names as primary, or "" when it does not know. The refusal is
// definite: the node did not apply the operation.
type NotPrimaryError struct {
	Node    string
	Primary string
}

func (e *NotPrimaryError) Error() string {
	if e.Primary == "" {
		return fmt.Sprintf("%s is not primary", e.Node)
	}
	return fmt.Sprintf("%s is not primary (primary %s)", e.Node, e.Primary)
}

// Is makes a NotPrimaryError match ErrNotApplied.
func (e *NotPrimaryError) Is(target error) bool { return target == ErrNotApplied }

// Classify maps an operation's error to its history outcome. This table is
// the contract the checkers rely on:
//
//	error                                   write / cas   read
//	nil                                     ok            ok (404 is ok, absent)
//	matches ErrNotApplied (refused dial,    fail          fail
//	  503 not primary, 412, other 4xx)
//	anything else (timeout or reset after   info          fail
//	  the request may have been sent, 5xx)
//
// Reads have no effect, so a read that did not answer is simply a fail.
func Classify(err error, write bool) history.Type {
	switch {
	case err == nil:
		return history.OK
	case !write || errors.Is(err, ErrNotApplied):
		return history.Fail
	default:
		return history.Info
	}
}

// router chooses the node for each attempt of one logical client. It keeps
// that client's guess of the primary, follows hints, and moves on from a node
// that refused; it never retries after an indeterminate error, because a
// retry could apply a write twice. It is used by one goroutine only.
type router struct {
	kv    KV
	guess string // current primary guess; "" means start with the first node
	// home is the node this client reads from first. Jepsen binds each
	// client to a node for the same reason: a standby that serves stale
	// reads, or a second primary after a split brain, is then read from,
	// as some real client would. Writes follow the primary guess instead,
	// so that recovery time measures the cluster, not the client's routing.
	home string
	// homeDown is when a home that timed out or was unreachable may be
	// tried again; until then reads start at the primary guess.
	homeDown time.Time
}

// homeBackoff is how long reads avoid a home node that did not answer.
const homeBackoff = 2 * time.Second

// maxAttemptsPerNode bounds retries within one operation: enough to follow a
// hint and go round the cluster twice, few enough not to spin during an
// election when every node refuses.
const maxAttemptsPerNode = 2

// do runs fn against nodes until it succeeds, fails for a reason other than
// "try elsewhere", or the attempts or ctx run out. A read starts at the
// client's home node, anything else at the primary guess. It returns the
// node of the last attempt, which is the node that answered when err is nil.
func (r *router) do(ctx context.Context, read bool, fn func(node string) error) (string, error) {
	nodes := r.kv.Nodes()
	if len(nodes) == 0 {
		return "", fmt.Errorf("choose node: %w", definite("no nodes"))
	}
	node := r.guess
	fromHome := read && r.home != "" && indexOf(nodes, r.home) >= 0 && time.Now().After(r.homeDown)
	if fromHome {
		node = r.home
	}
	if indexOf(nodes, node) < 0 {
		node = nodes[0]
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = fn(node)
		if attempt == 1 && fromHome && err != nil && !refused(err) && !errors.Is(err, ErrPrecondition) {
			r.homeDown = time.Now().Add(homeBackoff)
		}
		if read && attempt == 1 && fromHome && err == nil {
			// A home standby serving its own copy says nothing about
			// where the primary is: keep the guess.
			return node, nil
		}
		next, retry := r.next(nodes, node, err)
		if !retry || attempt >= maxAttemptsPerNode*len(nodes) || ctx.Err() != nil {
			break
		}
		node = next
	}
	switch {
	case err == nil || errors.Is(err, ErrPrecondition):
		// The node served the operation: it is the primary.
		r.guess = node
	case !errors.Is(err, ErrNotApplied):
		// A timeout or a reset: the node may be paused, partitioned or
		// dead. The next operation starts at the next node, which either
		// serves or hints at the primary; staying would time out on every
		// operation for as long as the fault lasts.
		r.guess = nodes[(indexOf(nodes, node)+1)%len(nodes)]
	}
	return node, err
}

// next says where to go after an attempt on node ended with err, and whether
// to go at all: only after a definite refusal to serve (not primary, or
// unreachable). A hint to a known node is followed; otherwise the next node in
// order is tried.
func (r *router) next(nodes []string, node string, err error) (string, bool) {
	var np *NotPrimaryError
	switch {
	case errors.As(err, &np):
		if np.Primary != "" && np.Primary != node && indexOf(nodes, np.Primary) >= 0 {
			r.guess = np.Primary
			return np.Primary, true
		}
	case errors.Is(err, ErrUnreachable):
	default:
		return node, false
	}
	n := nodes[(indexOf(nodes, node)+1)%len(nodes)]
	r.guess = n
	return n, true
}

// refused reports whether err is a node saying "not primary".
func refused(err error) bool {
	var np *NotPrimaryError
	return errors.As(err, &np)
}

func indexOf(nodes []string, node string) int {
	for i, n := range nodes {
		if n == node {
			return i
		}
	}
	return -1
}
