package checker

import (
	"encoding/json"
	"time"
)

// Result is the outcome of one check, or of a whole verdict. It is a typed
// string so that it reads the same in Go, in verdict.json and in JUnit.
type Result string

// The three outcomes. Unknown is not a soft pass: it means the check could not
// decide (porcupine timed out, the final read failed, nothing was recorded),
// and it must never be reported as a pass.
const (
	Pass    Result = "pass"
	Fail    Result = "fail"
	Unknown Result = "unknown"
)

// rank orders results for Merge. Anything that is not a known result ranks
// as Unknown: a check that produced garbage proved nothing.
func (r Result) rank() int {
	switch r {
	case Pass:
		return 0
	case Fail:
		return 2
	default:
		return 1
	}
}

// Merge combines results the way Jepsen composes checkers: fail beats
// unknown, and unknown beats pass. Merging nothing gives Pass, because a
// verdict with no checks has no target that was missed; callers that want
// "nothing was checked" to stand out must say so with their own Unknown.
// A value outside the three constants merges as Unknown.
func Merge(rs ...Result) Result {
	worst := 0
	for _, r := range rs {
		worst = max(worst, r.rank())
	}
	return [...]Result{Pass, Unknown, Fail}[worst]
}

// Check is one entry of verdict.json's "checks" object. Its JSON form is
// exactly DESIGN.md's:
//
//	{"result":"pass","value":2.41,"target":5,"unit":"seconds","per_fault":[2.41]}
//	{"result":"pass","value":0,"target":0,"unit":"writes","window_seconds":0}
//	{"result":"pass","value":0.957,"target":0.90,"unit":"ratio"}
//	{"result":"pass"}
//
// Numbers are pointers so that a measured zero is written as 0 while "not
// measured" or "no target" is left out. An RTO that never ended is written as
// "value": null with "unbounded": true, and its per_fault entry is null, so
// that JSON (which has no infinity) can still hold it.
type Check struct {
	Result Result `json:"result"`
	// Value is the measurement in Unit; nil when nothing could be measured.
	Value *float64 `json:"value,omitempty"`
	// Target is the scenario's target in Unit; nil when the scenario set none.
	Target *float64 `json:"target,omitempty"`
	Unit   string   `json:"unit,omitempty"`
	// PerFault lists the measurement per fault, in fault order: RTO's for
	// each disruptive fault, availability's for each fault window. An entry
	// is nil when that fault's value is unbounded or unknown.
	PerFault []*float64 `json:"per_fault,omitempty"`
	// WindowSeconds is RPO's time form (rpo_window), and WindowTarget its
	// target, both in seconds.
	WindowSeconds *float64 `json:"window_seconds,omitempty"`
	WindowTarget  *float64 `json:"window_target_seconds,omitempty"`
	// Unbounded is set when Value has no finite bound: an RTO whose fault
	// was never recovered from before the run ended.
	Unbounded bool `json:"unbounded,omitempty"`
	// Detail says in words why the check failed or is unknown, or what a
	// check without a target saw. It is empty for a plain pass.
	Detail string `json:"detail,omitempty"`
}

// MarshalJSON writes Value as null (rather than leaving it out) when the
// check is unbounded, and writes PerFault as [] when it was measured over no
// faults, so a reader can tell "no value" from "infinitely large".
func (c Check) MarshalJSON() ([]byte, error) {
	// The field order is DESIGN.md's, so that verdicts diff cleanly.
	out := struct {
		Result        Result   `json:"result"`
		Value         any      `json:"value,omitempty"`
		Target        *float64 `json:"target,omitempty"`
		Unit          string   `json:"unit,omitempty"`
		PerFault      any      `json:"per_fault,omitempty"`
		WindowSeconds *float64 `json:"window_seconds,omitempty"`
		WindowTarget  *float64 `json:"window_target_seconds,omitempty"`
		Unbounded     bool     `json:"unbounded,omitempty"`
		Detail        string   `json:"detail,omitempty"`
	}{
		Result: c.Result, Target: c.Target, Unit: c.Unit,
		WindowSeconds: c.WindowSeconds, WindowTarget: c.WindowTarget,
		Unbounded: c.Unbounded, Detail: c.Detail,
	}
	switch {
	case c.Value != nil:
		out.Value = *c.Value
	case c.Unbounded:
		out.Value = json.RawMessage("null")
	}
	if c.PerFault != nil {
		out.PerFault = c.PerFault
	}
	return json.Marshal(out)
}

// f64 returns a pointer to v, for the optional numbers of Check.
func f64(v float64) *float64 { return &v }

// seconds converts a duration in nanoseconds to seconds, the unit of every
// time in verdict.json. It is one correctly rounded division, so a whole
// number of milliseconds comes out as the double nearest its decimal (2.5,
// 0.8), which is what the tests compare with ==.
func seconds(ns int64) float64 { return float64(ns) / 1e9 }

// durationSeconds is seconds for a target duration, nil staying nil.
func durationSeconds(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	return f64(seconds(int64(*d)))
}

// judge turns "did the measurement miss the target" into a Result, applying
// the package rule that a check without a target is reported but passes.
func judge(hasTarget, missed bool) Result {
	if hasTarget && missed {
		return Fail
	}
	return Pass
}
