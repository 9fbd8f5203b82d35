package workload

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hadrill/hadrill/history"
)

// Stats is a snapshot of the load for the progress line and the summary.
type Stats struct {
	Total, OK, Fail, Info int64
	// Rate is operations per second completed over roughly the last second
	// (over the whole run for the final snapshot).
	Rate float64
	// Primary is the node that last acknowledged a write: the primary as the
	// clients see it. Empty until the first acknowledged write.
	Primary string
	// AckedLedger counts acknowledged ledger writes, the ones RPO reads back.
	AckedLedger int64
	// Processes is how many process ids were used (one more per info result).
	Processes int64
}

// counters are the live numbers behind Stats. The hot path only does atomic
// adds (and an atomic store when the primary changes); the reader's sampling
// for Rate is the only locked part, and only readers take it.
type counters struct {
	total, ok, fail, info atomic.Int64
	acked, processes      atomic.Int64
	primary               atomic.Pointer[string]

	start  time.Time
	mu     sync.Mutex // guards the samples, readers only
	prev   sample
	latest sample
}

type sample struct {
	at    time.Time
	total int64
}

// sampleEvery is the window of Stats.Rate.
const sampleEvery = time.Second

// count adds one completed operation. node is the answering node; when a
// write was acknowledged it becomes the primary as seen, stored only when it
// changes so clients do not contend on the cache line. node must point to a
// string that is never modified (an element of KV.Nodes).
func (c *counters) count(t history.Type, write bool, node *string) {
	c.total.Add(1)
	switch t {
	case history.OK:
		c.ok.Add(1)
		if write && node != nil {
			if p := c.primary.Load(); p == nil || *p != *node {
				c.primary.Store(node)
			}
		}
	case history.Fail:
		c.fail.Add(1)
	default:
		c.info.Add(1)
	}
}

// snapshot reads the counters. Rate is measured from the sample before the
// latest one, and samples are taken at most once per sampleEvery, so the
// window is between one and two sampleEvery when the reader polls often.
func (c *counters) snapshot() Stats {
	s := Stats{
		Total: c.total.Load(), OK: c.ok.Load(), Fail: c.fail.Load(), Info: c.info.Load(),
		AckedLedger: c.acked.Load(), Processes: c.processes.Load(),
	}
	if p := c.primary.Load(); p != nil {
		s.Primary = *p
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.latest.at.IsZero() {
		c.latest = sample{at: c.start}
		c.prev = c.latest
	}
	if now.Sub(c.latest.at) >= sampleEvery {
		c.prev, c.latest = c.latest, sample{at: now, total: s.Total}
	}
	if dt := now.Sub(c.prev.at).Seconds(); dt > 0 {
		s.Rate = float64(s.Total-c.prev.total) / dt
	}
	return s
}
