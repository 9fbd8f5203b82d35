package checker

import (
	"fmt"

	"github.com/hadrill/hadrill/history"
)

// WindowAvailability is availability inside one fault's window.
type WindowAvailability struct {
	Fault int `json:"fault"`
	OK    int `json:"ok"`
	Total int `json:"total"`
	// Ratio is OK/Total, nil when no operation was invoked in the window.
	Ratio *float64 `json:"ratio"`
}

// AvailabilityResult is the availability check, its counts, and the same
// measure inside each fault window.
type AvailabilityResult struct {
	Check  Check
	OK     int
	Total  int
	Faults []WindowAvailability
}

// Availability is ok operations ÷ all operations, over the whole run and
// inside each requested fault's window [Requested, Healed) (to the end of
// the run when never healed), counting an operation where it was invoked.
// "All operations" are every invocation of the workload, whether it ended
// ok, fail, info or never ended; final reads are left out because they are
// the checker's instrument, not the workload.
//
// An operation counts as ok when it was served (history.Op.Served): it
// completed ok, or it is a CAS answered 412 (history.Precondition). The
// store answered the 412, and counting contention as unavailability would
// make a CAS-heavy workload look like an outage. A CAS refused because the
// node is not primary (503) is not served.
//
// The whole-run ratio is compared with target (fail when below). With no
// operation at all the ratio is undefined: the value is null and the result
// Unknown even without a target, so that a run that recorded nothing is
// never a pass.
func Availability(in Input, target *float64) AvailabilityResult {
	var r AvailabilityResult
	faults := in.requested()
	r.Faults = make([]WindowAvailability, len(faults))
	for i, f := range faults {
		r.Faults[i].Fault = f.ID
	}
	pairs := in.paired()
	for i := range pairs {
		p := &pairs[i]
		if p.Invoke.F == history.FinalRead {
			continue
		}
		ok := p.Completion.Served()
		r.Total++
		if ok {
			r.OK++
		}
		for i, f := range faults {
			if faultWindow(f).contains(p.Invoke.Time) {
				r.Faults[i].Total++
				if ok {
					r.Faults[i].OK++
				}
			}
		}
	}
	c := Check{Unit: "ratio", Target: target, PerFault: make([]*float64, len(faults))}
	for i := range r.Faults {
		w := &r.Faults[i]
		if w.Total > 0 {
			w.Ratio = f64(float64(w.OK) / float64(w.Total))
		}
		c.PerFault[i] = w.Ratio
	}
	switch {
	case r.Total == 0:
		// Whatever the targets: a run that recorded nothing proves nothing.
		c.Result, c.Detail = Unknown, "no operations were recorded"
	default:
		v := float64(r.OK) / float64(r.Total)
		c.Value = f64(v)
		c.Result = judge(target != nil, target != nil && v < *target)
		if c.Result == Fail {
			c.Detail = fmt.Sprintf("%d of %d operations ok (%.4f < target %g)", r.OK, r.Total, v, *target)
		}
	}
	r.Check = c
	return r
}
