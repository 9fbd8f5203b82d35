package checker

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hadrill/hadrill/history"
)

// Recovery is RTO's measurement for one disruptive fault.
type Recovery struct {
	Fault  int    `json:"fault"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// Requested is when the fault was requested, and Start is t_f: when it
	// took effect on its first node (history.Fault.Start), ns since the
	// run's start. Start is Requested when no node reported the effect.
	Requested int64 `json:"requested_ns"`
	Start     int64 `json:"start_ns"`
	// Outage is set when a failed or indeterminate write was invoked after
	// t_f before writes settled; OutageStart is the first one's invocation.
	Outage      bool  `json:"outage"`
	OutageStart int64 `json:"outage_start_ns,omitempty"`
	// Recovered is t_r: the completion of the ok write that starts the
	// first settled success run after the outage; 0 without an outage.
	Recovered int64 `json:"recovered_ns,omitempty"`
	// RTO is t_r − t_f, or 0 when the fault caused no outage. It means
	// nothing when Unbounded or NoWrites is set.
	RTO time.Duration `json:"rto_ns"`
	// Unbounded: the outage had not ended when the run did.
	Unbounded bool `json:"unbounded,omitempty"`
	// NoWrites: no write was invoked after t_f, so there is no evidence
	// either way and the fault's RTO is unknown.
	NoWrites bool `json:"no_writes,omitempty"`
}

// RTOResult is the RTO check and its per-fault measurements, in fault order.
type RTOResult struct {
	Check  Check
	Faults []Recovery
}

// write is one write or CAS as RTO sees it: when it was invoked, when it was
// acknowledged (ok writes only), and whether it was.
type write struct {
	inv, done int64
	ok        bool
}

// RTO measures, for each disruptive fault (opt.Disruptive), how long writes
// took to recover after it took effect on its first node (t_f, see
// history.Fault.Start: the request time when no node reported the effect), and compares the largest with
// target. The definition, with the settle window S (opt.Settle):
//
//	writes, by invocation:  ok ok | FAIL INFO ok ok FAIL FAIL | ok ok ok ok ok ...
//	                              t_f                         t_r
//	                              |<-------- outage --------->|<-- success run, lasts >= S -->
//	                                          \___/
//	                            a burst shorter than S is merged into the outage
//	RTO = t_r - t_f
//
// Only writes (write, ledger write, CAS) invoked at or after t_f count, taken
// in invocation order. A success run is a maximal stretch of ok writes in
// that order; it lasts from the earliest acknowledgement among them to the
// invocation of the next failed or indeterminate write, or to the end of
// the run if none follows. It is settled when it lasts at least S, which
// includes a run cut off by the end of the run that had already lasted S.
//
//   - If a settled success run comes before any failed or indeterminate
//     write, the fault caused no outage: RTO = 0. So is it when no write
//     after t_f failed at all.
//   - Otherwise the outage starts at the first failed or indeterminate write
//     (classified by invocation, however late it completes). Success runs
//     shorter than S inside it are merged into it. t_r is the start of the
//     first settled success run after the outage began, and RTO = t_r − t_f.
//   - If no settled run follows before the end, RTO is unbounded; with a
//     target, the check fails.
//   - If no write at all was invoked after t_f, RTO is unknown.
//
// A CAS that failed because the key held another value (history.Precondition,
// a 412) is a healthy primary's answer and counts as a success; any other
// failed CAS counts like a failed write. Each fault is measured to
// the end of the run, so when faults overlap, a later fault's outage can
// extend an earlier fault's recovery.
func RTO(in Input, target *time.Duration, opt Options) RTOResult {
	opt = opt.withDefaults()
	ws := writes(in.paired())
	end := in.end()
	faults := in.disruptive(opt)
	out := RTOResult{Faults: make([]Recovery, 0, len(faults))}
	for _, f := range faults {
		tf := f.Start()
		from, _ := slices.BinarySearchFunc(ws, tf, func(w write, t int64) int { return cmp.Compare(w.inv, t) })
		r := recoverFrom(ws[from:], tf, end, opt.Settle.Nanoseconds())
		r.Fault, r.Kind, r.Target, r.Requested, r.Start = f.ID, f.Kind, f.Target, f.Requested, tf
		out.Faults = append(out.Faults, r)
	}
	out.Check = rtoCheck(out.Faults, target)
	return out
}

// writes returns the writes RTO looks at, ordered by invocation time.
func writes(pairs []history.Operation) []write {
	ws := make([]write, 0, len(pairs))
	for i := range pairs {
		p := &pairs[i]
		if !isWrite(p.Invoke.F) {
			continue
		}
		if p.Completion.Served() {
			ws = append(ws, write{inv: p.Invoke.Time, done: p.Completion.Time, ok: true})
		} else {
			ws = append(ws, write{inv: p.Invoke.Time})
		}
	}
	// Stable, so writes invoked at the same instant keep history order.
	// The pairs come in invocation order, so this is usually sorted already.
	byInv := func(a, b write) int { return cmp.Compare(a.inv, b.inv) }
	if !slices.IsSortedFunc(ws, byInv) {
		slices.SortStableFunc(ws, byInv)
	}
	return ws
}

// recoverFrom applies the definition in RTO's comment to ws, the writes
// invoked at or after tf, in invocation order.
func recoverFrom(ws []write, tf, end, settle int64) Recovery {
	if len(ws) == 0 {
		return Recovery{NoWrites: true}
	}
	var r Recovery
	for i := 0; i < len(ws); {
		if !ws[i].ok {
			if !r.Outage {
				r.Outage, r.OutageStart = true, ws[i].inv
			}
			i++
			continue
		}
		first, j := int64(math.MaxInt64), i
		for ; j < len(ws) && ws[j].ok; j++ {
			first = min(first, ws[j].done)
		}
		stop := end
		if j < len(ws) {
			stop = ws[j].inv
		}
		if stop-first >= settle {
			if r.Outage {
				r.Recovered, r.RTO = first, time.Duration(first-tf)
			}
			return r
		}
		i = j
	}
	// No settled run: unbounded after an outage, and no outage at all when
	// every write after tf succeeded.
	r.Unbounded = r.Outage
	return r
}

// rtoCheck summarises per-fault recoveries against the target: the value is
// the largest RTO, unbounded if any fault's is.
func rtoCheck(rs []Recovery, target *time.Duration) Check {
	c := Check{Unit: "seconds", Target: durationSeconds(target), PerFault: []*float64{}}
	var worst *float64
	var problems []string
	results := []Result{Pass}
	for _, r := range rs {
		what := fmt.Sprintf("fault %d (%s %s)", r.Fault, r.Kind, r.Target)
		switch {
		case r.NoWrites:
			c.PerFault = append(c.PerFault, nil)
			results = append(results, Unknown)
			problems = append(problems, what+": no write invoked after the fault took effect")
		case r.Unbounded:
			c.PerFault = append(c.PerFault, nil)
			c.Unbounded = true
			results = append(results, Fail)
			problems = append(problems, fmt.Sprintf("%s: no recovery before the run ended (outage from %.3fs)", what, seconds(r.OutageStart)))
		default:
			v := seconds(int64(r.RTO))
			c.PerFault = append(c.PerFault, f64(v))
			if worst == nil || v > *worst {
				worst = f64(v)
			}
			if target != nil && r.RTO > *target {
				results = append(results, Fail)
				problems = append(problems, fmt.Sprintf("%s: RTO %.3fs > target %v", what, v, *target))
			}
		}
	}
	if !c.Unbounded {
		c.Value = worst
	}
	if len(rs) == 0 {
		c.Detail = "no disruptive fault was requested: nothing to recover from"
	}
	if len(problems) > 0 {
		c.Detail = strings.Join(problems, "; ")
	}
	c.Result = Merge(results...)
	if target == nil && c.Result != Pass {
		c.Result, c.Detail = Pass, "no target; "+c.Detail
	}
	return c
}
