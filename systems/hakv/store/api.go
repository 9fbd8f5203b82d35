package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"
)

// PrimaryHeader names the primary on a 503. Its presence (even empty, when
// the primary is unknown) means "not primary, nothing was done", which
// clients may treat as a definite failure; a 500 means the outcome is unknown.
const PrimaryHeader = "Hakv-Primary"

// MaxValue is the largest value a PUT may carry; larger bodies get 413.
const MaxValue = 1 << 20

// maxInternalBody bounds an internal request (a batch of entries).
const maxInternalBody = 256 << 20

// notPrimaryError refuses an operation before it touched anything.
type notPrimaryError struct {
	primary string
	why     string
}

func (e *notPrimaryError) Error() string { return e.why }

func (n *Node) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /kv/{key...}", n.handlePut)
	mux.HandleFunc("GET /kv/{key...}", n.handleGet)
	mux.HandleFunc("GET /kv", n.handleScan)
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, n.status())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST "+pathAppend, func(w http.ResponseWriter, r *http.Request) {
		var req AppendRequest
		if decodeInternal(w, r, &req) {
			writeJSON(w, n.handleAppend(req))
		}
	})
	mux.HandleFunc("POST "+pathVote, func(w http.ResponseWriter, r *http.Request) {
		var req VoteRequest
		if decodeInternal(w, r, &req) {
			writeJSON(w, n.handleVote(req))
		}
	})
	return mux
}

// handlePut is PUT /kv/{key}, and compare-and-set with ?if=OLD. The answer
// comes once the write is as durable as the replication mode promises.
func (n *Node) handlePut(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if key == "" || !utf8.ValidString(key) {
		// Keys travel in JSON, which would silently rewrite invalid UTF-8.
		http.Error(w, "key must be non-empty UTF-8", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxValue))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("value larger than %d bytes", MaxValue), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	e := Entry{Op: OpPut, Key: key, Value: body}
	if q := r.URL.Query(); q.Has("if") {
		e.Op, e.If = OpCAS, []byte(q.Get("if"))
	}
	res, err := n.propose(r.Context(), e)
	var np *notPrimaryError
	switch {
	case errors.As(err, &np):
		writeNotPrimary(w, np)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	case !res.ok:
		http.Error(w, "precondition failed: value differs", http.StatusPreconditionFailed)
	default:
		fmt.Fprintln(w, "ok")
	}
}

func (n *Node) handleGet(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var v []byte
	var found bool
	err := n.read(r.Context(), func(s *kvState) { v, found = s.get(key) })
	switch {
	case err != nil:
		writeReadError(w, err)
	case !found:
		http.Error(w, "not found", http.StatusNotFound)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(v)
	}
}

func (n *Node) handleScan(w http.ResponseWriter, r *http.Request) {
	var out map[string]string
	err := n.read(r.Context(), func(s *kvState) { out = s.scan(r.URL.Query().Get("prefix")) })
	if err != nil {
		writeReadError(w, err)
		return
	}
	writeJSON(w, out)
}

func writeReadError(w http.ResponseWriter, err error) {
	if np := (*notPrimaryError)(nil); errors.As(err, &np) {
		writeNotPrimary(w, np)
		return
	}
	http.Error(w, err.Error(), http.StatusServiceUnavailable)
}

func writeNotPrimary(w http.ResponseWriter, np *notPrimaryError) {
	w.Header().Set(PrimaryHeader, np.primary)
	http.Error(w, np.why, http.StatusServiceUnavailable)
}

// propose appends a client write to the primary's log and waits until it is
// applied. A refusal before the append is a notPrimaryError; any failure
// after it is errOutcomeUnknown, since the entry may still survive.
func (n *Node) propose(ctx context.Context, e Entry) (applyResult, error) {
	n.mu.Lock()
	if err := n.writable(time.Now()); err != nil {
		n.mu.Unlock()
		return applyResult{}, err
	}
	ls := n.lead
	idx, gen, err := n.appendLocal(e)
	if err != nil {
		n.mu.Unlock()
		return applyResult{}, fmt.Errorf("%w: %w", errOutcomeUnknown, err)
	}
	w := &waiter{epoch: ls.epoch, ch: make(chan waitResult, 1)}
	n.waiters[idx] = w
	n.mu.Unlock()
	n.syncLocal(ls, idx, gen)
	return n.await(ctx, ls, idx, w)
}

// writable says whether this node may take a write now. A quorum primary
// stops once it can no longer count on a majority.
func (n *Node) writable(now time.Time) error {
	switch {
	case n.broken != nil:
		return &notPrimaryError{why: "node is stopping"}
	case n.role != RolePrimary:
		return &notPrimaryError{primary: n.knownPrimary(now), why: "not primary"}
	case n.cfg.Election == Quorum && !now.Before(n.lead.holdUntil(&n.cfg)):
		return &notPrimaryError{why: "primary without a majority"}
	}
	return nil
}

func (n *Node) await(ctx context.Context, ls *leadership, idx uint64, w *waiter) (applyResult, error) {
	timeout := time.NewTimer(n.cfg.WriteTimeout)
	defer timeout.Stop()
	var semi <-chan time.Time
	if n.cfg.Replication == SemiSync {
		t := time.NewTimer(n.cfg.SemiSyncTimeout)
		defer t.Stop()
		semi = t.C
	}
	for {
		select {
		case r := <-w.ch:
			return r.res, r.err
		case <-semi:
			semi = nil
			n.semiSyncFallback(ls)
		case <-timeout.C:
			n.dropWaiter(idx, w)
			return applyResult{}, fmt.Errorf("%w: replication timed out", errOutcomeUnknown)
		case <-ctx.Done():
			n.dropWaiter(idx, w)
			return applyResult{}, fmt.Errorf("%w: %w", errOutcomeUnknown, ctx.Err())
		}
	}
}

func (n *Node) dropWaiter(idx uint64, w *waiter) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.waiters[idx] == w {
		delete(n.waiters, idx)
	}
}

// read runs fn on the state machine if this node may serve reads: a quorum
// primary while it holds its lease and has committed its epoch's no-op (then
// the read is linearizable), a unilateral primary always, a standby only
// with --stale-reads. A primary still gathering its lease makes the reader
// wait a little instead of refusing.
func (n *Node) read(ctx context.Context, fn func(*kvState)) error {
	deadline := time.Now().Add(n.cfg.FailoverTimeout / 2)
	for {
		n.mu.Lock()
		now := time.Now()
		ok, wait := n.readable(now)
		if ok {
			fn(n.kv)
			n.mu.Unlock()
			return nil
		}
		ch, primary := n.changed, n.knownPrimary(now)
		n.mu.Unlock()
		if !wait || now.After(deadline) {
			if primary == n.cfg.ID {
				primary = ""
			}
			return &notPrimaryError{primary: primary, why: "not primary"}
		}
		select {
		case <-ch:
		case <-time.After(tickInterval):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// readable: may fn run now, and if not, is it worth waiting.
func (n *Node) readable(now time.Time) (ok, wait bool) {
	switch {
	case n.broken != nil:
		return false, false
	case n.role == RolePrimary && n.cfg.Election == Unilateral:
		return true, false
	case n.role == RolePrimary:
		ready := now.Before(n.lead.leaseUntil(&n.cfg)) && n.commit >= n.lead.startIndex
		return ready, !ready
	}
	return n.cfg.StaleReads, false
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
	}
}

func decodeInternal(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxInternalBody)).Decode(v); err != nil {
		http.Error(w, "decode: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
