package results

import (
	"errors"
	"strings"
)

// Kinds of environment finding.
const (
	// EnvDNS: a node could not resolve a peer's name with no fault in force.
	EnvDNS = "dns"
	// EnvReach: a node could not connect to a peer with no fault in force.
	EnvReach = "reach"
	// EnvAgent: a node's agent stopped answering.
	EnvAgent = "agent"
	// EnvContainer: the engine lost a node's container.
	EnvContainer = "container"
)

// EnvFinding is evidence, seen during a run, that the machine broke rather
// than the system under test: after every fault was healed, nodes could
// not resolve or reach each other, a node agent died, or the engine lost a
// container. A run with findings says nothing reliable about the system, so
// the check turns them into an "environment" check whose result is unknown
// and makes the verdict unknown, never fail (see scenarios.CheckRun).
//
// It is an error so that the runner can return it through its usual error
// paths; EnvFindings collects them again.
type EnvFinding struct {
	Kind   string `json:"kind"`
	Node   string `json:"node,omitempty"`
	Detail string `json:"detail"`
}

// Error says what broke, and where, in one line for logs and check details.
func (f *EnvFinding) Error() string {
	if f.Node == "" {
		return "environment: " + f.Kind + ": " + f.Detail
	}
	return "environment: " + f.Kind + " on " + f.Node + ": " + f.Detail
}

// EnvFindings collects every *EnvFinding in err's tree (errors.Join and
// %w wrapping both followed).
func EnvFindings(err error) []EnvFinding {
	var out []EnvFinding
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if f, ok := e.(*EnvFinding); ok {
			out = append(out, *f)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// IsEnvFinding reports whether err holds an environment finding.
func IsEnvFinding(err error) bool {
	var f *EnvFinding
	return errors.As(err, &f)
}

// EnvSummary joins findings into one line for a check's detail.
func EnvSummary(fs []EnvFinding) string {
	parts := make([]string, len(fs))
	for i := range fs {
		parts[i] = strings.TrimPrefix(fs[i].Error(), "environment: ")
	}
	return "the environment broke during the run, not the system: " + strings.Join(parts, "; ")
}
