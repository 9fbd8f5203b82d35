package checker

import (
	"context"

	"github.com/hadrill/hadrill/history"
)

// Check names, the keys of Report.Checks and of verdict.json's "checks".
// This is their one declaration: the runner, the reports and the comparison
// read them from here.
const (
	CheckLinearizability = "linearizability"
	CheckRTO             = "rto"
	CheckRPO             = "rpo"
	CheckAvailability    = "availability"
	// CheckFaults says the drill's faults really happened (FaultsApplied).
	CheckFaults = "faults"
	// CheckEnvironment says whether the machine held up during the run; the
	// runner adds it when it found the environment broken.
	CheckEnvironment = "environment"
)

// CheckOrder is the order in which reports list the checks: the order
// docs/DESIGN.md introduces them.
var CheckOrder = []string{CheckLinearizability, CheckRTO, CheckRPO, CheckAvailability, CheckFaults, CheckEnvironment}

// OpCounts counts the workload's operations by how they ended, as
// verdict.json's "ops" does. Every invocation counts once; one that never
// completed counts as info, since it is just as indeterminate. The final read
// phase is counted apart, so that OK/Total is exactly the availability.
type OpCounts struct {
	Total      int `json:"total"`
	OK         int `json:"ok"`
	Fail       int `json:"fail"`
	Info       int `json:"info"`
	FinalReads int `json:"final_reads"`
}

// FaultReport gathers what the checks measured around one requested fault,
// for reports that show a row per fault. Times are in seconds since the
// run's start.
type FaultReport struct {
	Fault     int      `json:"fault"`
	Kind      string   `json:"kind"`
	Target    string   `json:"target"`
	Requested float64  `json:"requested"`
	Effective *float64 `json:"effective,omitempty"`
	// FirstEffective is when the fault took effect on its first node, and
	// EffectLatency how long that took from the request; both nil when it
	// never took effect. RTO and the RPO window count from FirstEffective.
	FirstEffective *float64 `json:"first_effective,omitempty"`
	EffectLatency  *float64 `json:"effect_latency,omitempty"`
	Healed         *float64 `json:"healed,omitempty"`
	// Disruptive faults have an RTO: RTO in seconds, nil when unbounded
	// (Unbounded set) or unknown (no writes after the fault).
	Disruptive bool     `json:"disruptive"`
	RTO        *float64 `json:"rto,omitempty"`
	Unbounded  bool     `json:"unbounded,omitempty"`
	// Outages are the outages RTO found for a disruptive fault (the
	// longest is its RTO), for reports that list them.
	Outages []OutageRecord `json:"outages,omitempty"`
	// Availability inside the fault window, nil when no operation was
	// invoked in it.
	Availability *float64 `json:"availability"`
	OK           int      `json:"ok"`
	Total        int      `json:"total"`
}

// Report is everything Run found. It marshals to JSON for saving next to the
// verdict; the porcupine data for the visualization stays in Linearization.
type Report struct {
	// Verdict merges the four checks: fail > unknown > pass.
	Verdict Result           `json:"verdict"`
	Ops     OpCounts         `json:"ops"`
	Checks  map[string]Check `json:"checks"`
	Faults  []FaultReport    `json:"faults"`
	Latency LatencyReport    `json:"latency"`
	// LostWrites are RPO's lost acknowledged ledger writes.
	LostWrites []LostWrite `json:"lost_writes,omitempty"`
	// Linearization holds porcupine's result; call its WriteVisualization
	// to produce linearizability.html when the check failed.
	Linearization *LinearizabilityResult `json:"-"`
}

// Run runs every check on one run's history against the scenario's targets
// and merges them into a verdict. ctx bounds only the linearizability check,
// the one that can take long; cancelling it makes that check Unknown.
func Run(ctx context.Context, in Input, t Targets, opt Options) Report {
	in = in.withPairs()
	// The other checks only read the pairs: they run while porcupine does,
	// on whatever core its partitions leave free.
	linDone := make(chan *LinearizabilityResult, 1)
	go func() { linDone <- Linearizability(ctx, in, t.Linearizable, opt) }()
	rto := RTO(in, t.RTO, opt)
	rpo := RPO(in, t.RPO, t.RPOWindow, opt)
	avail := Availability(in, t.Availability)
	applied := FaultsApplied(in)
	latency := Latency(in)
	ops := countOps(in.Pairs)
	lin := <-linDone
	r := Report{
		Ops: ops,
		Checks: map[string]Check{
			CheckLinearizability: lin.Check,
			CheckRTO:             rto.Check,
			CheckRPO:             rpo.Check,
			CheckAvailability:    avail.Check,
			CheckFaults:          applied,
		},
		Faults:        faultReports(in, opt, rto, avail),
		Latency:       latency,
		LostWrites:    rpo.Lost,
		Linearization: lin,
	}
	r.Verdict = Merge(lin.Check.Result, rto.Check.Result, rpo.Check.Result, avail.Check.Result, applied.Result)
	return r
}

// countOps counts operations by outcome; see OpCounts.
func countOps(pairs []history.Operation) OpCounts {
	var c OpCounts
	for i := range pairs {
		p := &pairs[i]
		if p.Invoke.F == history.FinalRead {
			c.FinalReads++
			continue
		}
		c.Total++
		switch p.Outcome() {
		case history.OK:
			c.OK++
		case history.Fail:
			c.Fail++
		default:
			c.Info++
		}
	}
	return c
}

// faultReports joins the per-fault results of RTO and availability, which
// both follow the order of the requested faults.
func faultReports(in Input, opt Options, rto RTOResult, avail AvailabilityResult) []FaultReport {
	opt = opt.withDefaults()
	recovery := map[int]Recovery{}
	for _, r := range rto.Faults {
		recovery[r.Fault] = r
	}
	out := []FaultReport{} // [] rather than null in JSON when there were no faults
	for i, f := range in.requested() {
		fr := FaultReport{
			Fault: f.ID, Kind: f.Kind, Target: f.Target, Requested: seconds(f.Requested),
			Effective: optSeconds(f.Effective), Healed: optSeconds(f.Healed),
			FirstEffective: optSeconds(f.FirstEffective),
			Disruptive:     opt.Disruptive(f),
		}
		if f.FirstEffective > 0 {
			fr.EffectLatency = f64(seconds(f.EffectLatency()))
		}
		if r, ok := recovery[f.ID]; ok && !r.Unbounded && !r.NoWrites {
			fr.RTO = f64(seconds(int64(r.RTO)))
		} else if ok {
			fr.Unbounded = r.Unbounded
		}
		if r, ok := recovery[f.ID]; ok && len(r.Outages) > 0 {
			fr.Outages = outageRecords(r.Outages)
		}
		w := avail.Faults[i]
		fr.Availability, fr.OK, fr.Total = w.Ratio, w.OK, w.Total
		out = append(out, fr)
	}
	return out
}

// optSeconds converts a fault stage time, where 0 means "never happened".
func optSeconds(ns int64) *float64 {
	if ns == 0 {
		return nil
	}
	return f64(seconds(ns))
}
