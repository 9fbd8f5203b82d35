package workload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hadrill/hadrill/history"
)

// FinalStats summarises the final read phase.
type FinalStats struct {
	// Acked is the number of acknowledged ledger writes read back.
	Acked int
	// Present and Absent split them by what the scan showed; Failed counts
	// final reads recorded as fail because no primary could be scanned.
	Present, Absent, Failed int
	// Node is the node whose scan was used ("" when none).
	Node string
}

// finalAttemptTimeout bounds one scan attempt, so a hung node leaves time to
// try the others before the deadline.
const finalAttemptTimeout = 2 * time.Second

// finalRetryPause spaces rounds of attempts while the cluster elects a
// primary after the faults were healed.
const finalRetryPause = 100 * time.Millisecond

// FinalRead is the read-back phase RPO rests on (docs/DESIGN.md, RPO). Call it
// after Run, once every fault is healed. It scans the ledger keys once on
// the primary (GET /kv?prefix=ledger- for hakv), retrying across nodes until
// a primary answers or wait has passed, then records one final_read op pair
// per acknowledged ledger key, under a process id no client used: ok with the
// value seen, or "" when the key is absent (a lost write).
//
// The pairs are recorded after the scan, one after another, so each pair's
// interval follows the moment the scan read the data. The checker treats
// them as reads too: a lost acknowledged write is also a linearizability
// violation.
//
// If no primary could be scanned in time, every final read is recorded as
// fail with the reason, so RPO is unknown rather than a pass, and the error
// says so. The error is also the recorder's, if it failed.
func (r *Runner) FinalRead(ctx context.Context, wait time.Duration) (FinalStats, error) {
	st := FinalStats{Acked: len(r.acked)}
	if len(r.acked) == 0 {
		return st, nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	node, data, scanErr := r.scanPrimary(ctx)
	st.Node = node
	if err := r.recordFinal(&st, r.finalProcess, node, data, scanErr); err != nil {
		return st, err
	}
	if scanErr != nil {
		return st, fmt.Errorf("final read: %w", scanErr)
	}
	// After a split brain more than one node may still claim to be the
	// primary. Each one's copy is read back too: where they disagree, the
	// history shows it, and a write missing from any of them is lost. Only
	// a store that reports roles can say who claims it.
	if _, ok := r.kv.(roleReporter); !ok {
		return st, nil
	}
	for i, other := range r.kv.Nodes() {
		if other == node {
			continue
		}
		if odata, _, err := r.scanIfPrimary(ctx, other); err == nil {
			var ost FinalStats
			if err := r.recordFinal(&ost, r.finalProcess+1+i, other, odata, nil); err != nil {
				return st, err
			}
			st.Absent += ost.Absent
		}
	}
	return st, nil
}

// recordFinal records one final_read op pair per acknowledged ledger key,
// as scanned on node: ok with the value seen, "" when absent, or fail with
// scanErr when no scan could be made.
func (r *Runner) recordFinal(st *FinalStats, process int, node string, data map[string]string, scanErr error) error {
	op := history.Op{Process: process, F: history.FinalRead}
	for _, key := range r.acked {
		op.Key, op.Value, op.Error = key, "", ""
		if err := r.rec.Invoke(&op); err != nil {
			return fmt.Errorf("final read: %w", err)
		}
		op.Type, op.Node = history.OK, node
		switch v, ok := data[key]; {
		case scanErr != nil:
			op.Type, op.Error = history.Fail, scanErr.Error()
			st.Failed++
		case ok:
			op.Value = v
			st.Present++
		default:
			st.Absent++
		}
		if err := r.rec.Complete(&op); err != nil {
			return fmt.Errorf("final read: %w", err)
		}
	}
	return nil
}

// scanPrimary scans the ledger keys on a node that is the primary, trying
// nodes in turn from the primary the clients last saw, following hints, and
// pausing between rounds, until ctx is done. It returns the last error then.
func (r *Runner) scanPrimary(ctx context.Context) (string, map[string]string, error) {
	node := r.stats.snapshot().Primary
	var last error
	for tried := 0; ; tried++ {
		nodes := r.kv.Nodes()
		if len(nodes) == 0 {
			return "", nil, errors.New("scan ledger keys: no nodes")
		}
		if indexOf(nodes, node) < 0 {
			node = nodes[0]
		}
		data, hint, err := r.scanIfPrimary(ctx, node)
		if err == nil {
			return node, data, nil
		}
		last = err
		next := nodes[(indexOf(nodes, node)+1)%len(nodes)]
		if hint != "" && hint != node && indexOf(nodes, hint) >= 0 {
			next = hint
		}
		if tried%len(nodes) == len(nodes)-1 {
			pause(ctx, finalRetryPause)
		}
		if ctx.Err() != nil {
			return "", nil, fmt.Errorf("scan ledger keys: no primary answered in time: %w", last)
		}
		node = next
	}
}

// scanIfPrimary scans node if it is the primary. When the KV can report
// roles, a node that does not say it is the primary is not scanned: a standby
// serving stale reads would report writes lost that are not. hint is the
// primary the node named, if any.
func (r *Runner) scanIfPrimary(ctx context.Context, node string) (map[string]string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, finalAttemptTimeout)
	defer cancel()
	if rr, ok := r.kv.(roleReporter); ok {
		role, primary, err := rr.Role(ctx, node)
		if err != nil {
			return nil, "", err
		}
		if role != "primary" {
			return nil, primary, fmt.Errorf("scan ledger keys on %s: role %q", node, role)
		}
	}
	data, err := r.kv.Scan(ctx, node, history.LedgerPrefix)
	var np *NotPrimaryError
	if errors.As(err, &np) {
		return nil, np.Primary, err
	}
	return data, "", err
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
