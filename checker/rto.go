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
	// Outages are the outages the fault caused, in time order; none when
	// writes never failed inside its window.
	Outages []Outage `json:"outages"`
	// RTO is the longest outage's length, or 0 when the fault caused no
	// outage. It means nothing when Unbounded or NoWrites is set.
	RTO time.Duration `json:"rto_ns"`
	// Unbounded: the last outage had not ended when the run did.
	Unbounded bool `json:"unbounded,omitempty"`
	// NoWrites: no write was invoked after t_f, so there is no evidence
	// either way and the fault's RTO is unknown.
	NoWrites bool `json:"no_writes,omitempty"`
}

// OutageCause says what, as far as the history can tell, set off an outage.
type OutageCause string

// The causes an outage can be given: the fault taking effect, or its heal
// (a node that rejoins and, say, deposes the leader elected without it).
const (
	CauseEffect OutageCause = "effect"
	CauseHeal   OutageCause = "heal"
)

// Outage is one stretch without settled writes that a fault caused. Times
// are ns since the run's start; the package documentation (RTO) defines
// each of them.
type Outage struct {
	// Start is when the outage began: t_f for the outage the fault's
	// effect began with, else the invocation of its first failed or
	// indeterminate write (FirstFailed).
	Start       int64 `json:"start_ns"`
	FirstFailed int64 `json:"first_failed_ns"`
	// End is the recovery, t_r; 0 when Unrecovered.
	End         int64         `json:"end_ns,omitempty"`
	Length      time.Duration `json:"length_ns"`
	Unrecovered bool          `json:"unrecovered,omitempty"`
	Cause       OutageCause   `json:"cause"`
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

// RTO measures, for each disruptive fault (opt.Disruptive), every outage the
// fault caused and how long each lasted, with the settle window opt.Settle,
// and compares each fault's longest with target. The definition is the
// package documentation's (RTO, in doc.go), and only there, so that the two
// cannot drift apart.
func RTO(in Input, target *time.Duration, opt Options) RTOResult {
	opt = opt.withDefaults()
	ws := writes(in.paired())
	end := in.end()
	faults := in.disruptive(opt)
	out := RTOResult{Faults: make([]Recovery, 0, len(faults))}
	for _, f := range faults {
		tf := f.Start()
		from, _ := slices.BinarySearchFunc(ws, tf, func(w write, t int64) int { return cmp.Compare(w.inv, t) })
		r := recoverFrom(ws[from:], span{tf: tf, heal: f.HealRequested, healed: f.Healed, end: end}, opt.Settle.Nanoseconds())
		r.Fault, r.Kind, r.Target, r.Requested, r.Start = f.ID, f.Kind, f.Target, f.Requested, tf
		out.Faults = append(out.Faults, r)
	}
	out.Check = rtoCheck(out.Faults, target)
	return out
}

// span is what recoverFrom needs to know of a fault and the run, in ns:
// t_f, when its heal was requested and when it was healed (0 if never),
// and the run's end.
type span struct{ tf, heal, healed, end int64 }

// closes is when the fault's window closes for new outages: healed plus
// the settle window, or never for a fault that was not healed.
func (s span) closes(settle int64) int64 {
	if s.healed == 0 {
		return math.MaxInt64
	}
	return s.healed + settle
}

// cause names what set off an outage that began at t.
func (s span) cause(t int64) OutageCause {
	heal := cmp.Or(s.heal, s.healed)
	if heal > 0 && t >= heal {
		return CauseHeal
	}
	return CauseEffect
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

// recoverFrom applies the package documentation's RTO definition to ws,
// the writes invoked at or after s.tf, in invocation order.
func recoverFrom(ws []write, s span, settle int64) Recovery {
	if len(ws) == 0 {
		return Recovery{NoWrites: true}
	}
	var r Recovery
	var cur *Outage  // the outage in progress
	settled := false // a settled success run came after t_f
	closes := s.closes(settle)
	for i := 0; i < len(ws); {
		if !ws[i].ok {
			if cur == nil {
				if settled && ws[i].inv >= closes {
					break // the window has closed: later outages are not this fault's
				}
				o := Outage{Start: s.tf, FirstFailed: ws[i].inv}
				if settled {
					o.Start = ws[i].inv
				}
				o.Cause = s.cause(o.Start)
				cur = &o
			}
			i++
			continue
		}
		first, j := int64(math.MaxInt64), i
		for ; j < len(ws) && ws[j].ok; j++ {
			first = min(first, ws[j].done)
		}
		stop := s.end
		if j < len(ws) {
			stop = ws[j].inv
		}
		if stop-first >= settle {
			settled = true
			if cur != nil {
				cur.End = first
				cur.Length = time.Duration(cur.End - cur.Start)
				r.Outages = append(r.Outages, *cur)
				r.RTO = max(r.RTO, cur.Length)
				cur = nil
			}
		}
		i = j
	}
	if cur != nil {
		cur.Unrecovered = true
		r.Outages = append(r.Outages, *cur)
		r.Unbounded = true
	}
	return r
}

// rtoCheck summarises per-fault recoveries against the target: the value is
// the largest RTO, unbounded if any fault's is, and Outages lists each
// fault's outages.
func rtoCheck(rs []Recovery, target *time.Duration) Check {
	c := Check{Unit: "seconds", Target: durationSeconds(target), PerFault: []*float64{}, Outages: [][]OutageRecord{}}
	var worst *float64
	var problems []string
	results := []Result{Pass}
	for _, r := range rs {
		c.Outages = append(c.Outages, outageRecords(r.Outages))
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
			last := len(r.Outages) - 1
			problems = append(problems, fmt.Sprintf("%s: no recovery before the run ended (%s)", what, describe(r.Outages, last)))
		default:
			v := seconds(int64(r.RTO))
			c.PerFault = append(c.PerFault, f64(v))
			if worst == nil || v > *worst {
				worst = f64(v)
			}
			if target != nil && r.RTO > *target {
				results = append(results, Fail)
				problems = append(problems, fmt.Sprintf("%s: RTO %.3fs > target %v (%s)", what, v, *target, describe(r.Outages, longest(r.Outages))))
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

// longest returns the index of the first of the longest outages.
func longest(os []Outage) int {
	at := 0
	for i, o := range os {
		if o.Length > os[at].Length {
			at = i
		}
	}
	return at
}

// describe says in words which outage os[i] is, for a Detail.
func describe(os []Outage, i int) string {
	o := os[i]
	cause := "after the fault took effect"
	if o.Cause == CauseHeal {
		cause = "after the heal"
	}
	return fmt.Sprintf("outage %d of %d, %s: from %.3fs, first failed write %.3fs", i+1, len(os), cause, seconds(o.Start), seconds(o.FirstFailed))
}

// outageRecords converts outages to their verdict form, [] for none.
func outageRecords(os []Outage) []OutageRecord {
	out := make([]OutageRecord, 0, len(os))
	for _, o := range os {
		r := OutageRecord{Start: seconds(o.Start), FirstFailed: seconds(o.FirstFailed), Cause: o.Cause, Unbounded: o.Unrecovered}
		if !o.Unrecovered {
			r.End, r.Length = f64(seconds(o.End)), f64(seconds(int64(o.Length)))
		}
		out = append(out, r)
	}
	return out
}
