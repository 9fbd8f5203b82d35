package drill

import (
	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
)

// environment turns the run's environment findings into the "environment"
// check and applies the rule for them: when the machine broke during the
// run (nodes could not resolve or reach each other with no fault in force,
// a node agent died, the engine lost a container), the verdict is unknown,
// whatever the other checks say. The other checks keep their own results,
// so a reader still sees what was measured, but a failed availability or
// RTO in a run whose network broke says nothing about the system, and a
// verdict of fail would blame it. With no findings the check is absent and
// nothing changes.
func environment(rep *checker.Report, found []results.EnvFinding) {
	if len(found) == 0 {
		return
	}
	if rep.Checks == nil {
		rep.Checks = map[string]checker.Check{}
	}
	rep.Checks[checker.CheckEnvironment] = checker.Check{Result: checker.Unknown, Detail: results.EnvSummary(found)}
	rep.Verdict = checker.Unknown
}
