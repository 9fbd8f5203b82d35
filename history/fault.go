package history

import (
	"math"
	"sort"
)

// FaultEventType is the stage of a fault that a FaultEvent records.
type FaultEventType string

// Fault stages, in the order they normally happen. Scheduled lines come
// first, one per planned fault, and depend only on the scenario and its
// seed: two runs with the same seed begin faults.jsonl with the same bytes.
// Effective and Healed are reported per node; Requested and HealRequested
// once per fault.
const (
	FaultScheduled     FaultEventType = "scheduled"
	FaultRequested     FaultEventType = "requested"
	FaultEffective     FaultEventType = "effective"
	FaultHealRequested FaultEventType = "heal_requested"
	FaultHealed        FaultEventType = "healed"
	FaultError         FaultEventType = "error"
	// FaultSkipped says a scheduled fault was never requested: the
	// schedule ended before its time (the drill aborted, the load ended,
	// the run was interrupted). Reason says which.
	FaultSkipped FaultEventType = "skipped"
)

// FaultEvent is one line of faults.jsonl. Events are written as they happen,
// so an interrupted run still leaves a readable record.
type FaultEvent struct {
	// Fault numbers the fault in schedule order, from 0.
	Fault int            `json:"fault"`
	Type  FaultEventType `json:"type"`
	Kind  string         `json:"kind"`
	// Target is the target as the scenario wrote it ("primary", "n2").
	Target string `json:"target"`
	// Node is the node this event concerns, for per-node stages.
	Node string `json:"node,omitempty"`
	// At is the scheduled start, in ns since the run's start. It depends only
	// on the scenario and seed, so equal seeds give equal At values.
	At int64 `json:"at"`
	// Time is when this event happened, in ns since the run's start.
	Time int64 `json:"time"`
	// Measured holds effects the injector observed (packets dropped, ...).
	Measured map[string]float64 `json:"measured,omitempty"`
	Error    string             `json:"error,omitempty"`
	// Reason says why a fault was skipped.
	Reason string `json:"reason,omitempty"`
}

// Fault is a fault folded from its events.
type Fault struct {
	ID     int
	Kind   string
	Target string
	Nodes  []string
	At     int64
	// Requested, Effective and Healed are ns since the run's start; 0 means
	// the stage never happened. Effective is the latest per-node effective
	// time (the fault is in full force from then on); Healed likewise.
	Requested, Effective, HealRequested, Healed int64
	// FirstEffective is when the fault took effect on its first node: the
	// moment the system under test could first notice it, from which RTO
	// and the RPO window are measured (see Start).
	FirstEffective int64
	Measured       map[string]float64
	Errors         []string
}

// Window is the fault's window, the one definition every check and plot
// uses: [from, to) in ns, from the request until the heal, with to =
// math.MaxInt64 for a fault that was never healed (in force to the end).
// RTO and the RPO window are measured from Start instead, which is when the
// system could first notice the fault.
func (f Fault) Window() (from, to int64) {
	to = f.Healed
	if to == 0 {
		to = math.MaxInt64
	}
	return f.Requested, to
}

// Active reports whether the fault was in force at time t (ns): whether t
// is in its Window.
func (f Fault) Active(t int64) bool {
	from, to := f.Window()
	return t >= from && t < to
}

// Start is t_f, the moment a fault's recovery is measured from: when it
// took effect on its first node, or, when no node reported that, when it
// was requested.
func (f Fault) Start() int64 {
	if f.FirstEffective > 0 {
		return f.FirstEffective
	}
	return f.Requested
}

// EffectLatency is the time from the fault's request to its effect on its
// first node, 0 when it never took effect.
func (f Fault) EffectLatency() int64 {
	if f.FirstEffective == 0 {
		return 0
	}
	return f.FirstEffective - f.Requested
}

// FoldFaults turns fault events into one Fault per fault id, ordered by id.
func FoldFaults(events []FaultEvent) []Fault {
	byID := map[int]*Fault{}
	var ids []int
	for _, e := range events {
		f, ok := byID[e.Fault]
		if !ok {
			f = &Fault{ID: e.Fault, Kind: e.Kind, Target: e.Target, At: e.At}
			byID[e.Fault] = f
			ids = append(ids, e.Fault)
		}
		if e.Node != "" && !contains(f.Nodes, e.Node) {
			f.Nodes = append(f.Nodes, e.Node)
		}
		for k, v := range e.Measured {
			if f.Measured == nil {
				f.Measured = map[string]float64{}
			}
			f.Measured[k] = v
		}
		switch e.Type {
		case FaultRequested:
			f.Requested = e.Time
		case FaultEffective:
			f.Effective = max(f.Effective, e.Time)
			if f.FirstEffective == 0 || e.Time < f.FirstEffective {
				f.FirstEffective = e.Time
			}
		case FaultHealRequested:
			f.HealRequested = e.Time
		case FaultHealed:
			f.Healed = max(f.Healed, e.Time)
		case FaultError:
			f.Errors = append(f.Errors, e.Error)
		}
	}
	sort.Ints(ids)
	out := make([]Fault, 0, len(ids))
	for _, id := range ids {
		out = append(out, *byID[id])
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
