package checker

import (
	"fmt"
	"slices"
	"strings"
)

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
		errs := f.Errors
		if f.Healed > 0 {
			// A heal that failed and was retried until it succeeded (the
			// node was down meanwhile) left the fault healed: only the
			// errors of other stages still say the drill went wrong.
			errs = slices.DeleteFunc(slices.Clone(errs), func(e string) bool { return strings.HasPrefix(e, "heal: ") })
		}
		switch {
		case len(errs) > 0:
			problems = append(problems, fmt.Sprintf("%s: %s", name, strings.Join(errs, "; ")))
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
