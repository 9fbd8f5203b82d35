package results

import (
	"math"

	"github.com/hadrill/hadrill/checker"
)

// Aborted is the verdict of a drill that a guard condition of the scenario
// stopped before its end. It ranks with fail: the system broke badly
// enough that the drill gave up on it.
const Aborted checker.Result = "aborted"

// Outcome reduces a verdict or a check result to the three outcomes that
// statistics over runs count: aborted ranks with fail, and anything
// unrecognised (a damaged or newer verdict) with unknown, never with pass.
func Outcome(r checker.Result) checker.Result {
	switch r {
	case checker.Pass, checker.Fail:
		return r
	case Aborted:
		return checker.Fail
	}
	return checker.Unknown
}

// RTO is the run's RTO in seconds: the rto check's value, +Inf when
// unbounded. ok is false when the run has no RTO measurement, including
// when the check is unknown: an unknown value is never read as a number.
func (v *Verdict) RTO() (seconds float64, ok bool) {
	c, has := v.Checks[checker.CheckRTO]
	switch {
	case !has:
		return 0, false
	case c.Unbounded:
		return math.Inf(1), true
	case c.Value != nil && c.Result != checker.Unknown:
		return *c.Value, true
	}
	return 0, false
}

// LostWrites is the rpo check's count of lost acknowledged writes.
func (v *Verdict) LostWrites() (float64, bool) { return v.checkValue(checker.CheckRPO) }

// Availability is the availability check's ratio.
func (v *Verdict) Availability() (float64, bool) { return v.checkValue(checker.CheckAvailability) }

// WriteP99 is the p99 latency of ok writes over the whole run, seconds.
func (v *Verdict) WriteP99() (float64, bool) {
	s, ok := v.Latency.Run["write"]
	if !ok || s.Count == 0 {
		return 0, false
	}
	return s.P99, true
}

// checkValue is a check's finite value, if it has one and the check is not
// unknown. An unknown RPO, say, holds the writes known lost so far (often
// 0) because the final read never happened: read as a number it would make
// the run look better than anything it proved.
func (v *Verdict) checkValue(name string) (float64, bool) {
	c, ok := v.Checks[name]
	if !ok || c.Value == nil || c.Result == checker.Unknown {
		return 0, false
	}
	return *c.Value, true
}

// CheckUnknown reports whether the run has the check, with an unknown
// result and no unbounded value: a measurement that statistics over runs
// leave out, and count.
func (v *Verdict) CheckUnknown(name string) bool {
	c, ok := v.Checks[name]
	return ok && c.Result == checker.Unknown && !c.Unbounded
}
