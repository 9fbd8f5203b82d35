package checker

import (
	"fmt"
	"strings"
)

// CheckFaults names the check that the drill's faults really happened.
const CheckFaults = "faults"

// FaultsApplied checks the drill itself rather than the system: every fault
// that was requested must have taken effect, and been healed, without an
// error. A fault that never took effect tested nothing, so the run's other
// checks cannot pass on its behalf: the result is Unknown, never Fail (the
// system did nothing wrong) and never Pass. A run that ended before a fault's
// scheduled time simply has no such fault to check.
func FaultsApplied(in Input) Check {
	var problems []string
	for _, f := range in.Faults {
		if f.Requested == 0 {
			continue
		}
		name := fmt.Sprintf("fault %d (%s %s)", f.ID, f.Kind, f.Target)
		switch {
		case len(f.Errors) > 0:
			problems = append(problems, fmt.Sprintf("%s: %s", name, strings.Join(f.Errors, "; ")))
		case f.Effective == 0:
			problems = append(problems, name+": never took effect")
		case f.Healed == 0:
			problems = append(problems, name+": never healed")
		}
	}
	if len(problems) == 0 {
		return Check{Result: Pass}
	}
	return Check{Result: Unknown, Detail: strings.Join(problems, "; ")}
}
