package results

import (
	"fmt"
	"time"
)

// Abort records the abort condition (the scenario's abort:) that stopped a
// drill early: which one, when, and what was seen. run.json holds it so
// that an offline check gives the same "aborted" verdict, and verdict.json
// repeats it for readers of the verdict alone.
type Abort struct {
	// Condition is the condition's name as the scenario writes it
	// (no_primary, availability, probe).
	Condition string `json:"condition"`
	// At is when it tripped, in seconds since the load started (the time
	// base of every other time in seconds here).
	At float64 `json:"at"`
	// Time is the same moment on the wall clock.
	Time time.Time `json:"time"`
	// Detail says in words what tripped it.
	Detail string `json:"detail"`
}

// String is one line for the summary, the report and JUnit:
// "no_primary at 13.20 s: no node claimed primary for 10s".
func (a Abort) String() string {
	return fmt.Sprintf("%s at %.2f s: %s", a.Condition, a.At, a.Detail)
}
