package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/faults"
)

// TestRoleTargetParsesAndIsChecked: {role: X, select: S} reads back as a
// role target; a system without auxiliary roles refuses it, naming the
// field.
func TestRoleTargetParsesAndIsChecked(t *testing.T) {
	_, err := Parse([]byte(newKindsBase+`  - {kind: kill, target: {role: sentinel, select: one}, at: 5s}
`), "role.yaml")
	if err == nil || !strings.Contains(err.Error(), "role.yaml:6: faults[0].target.role: hakv has no roles") {
		t.Fatalf("role on hakv: %v, want a refusal naming faults[0].target.role", err)
	}
	s := Default()
	s.Faults = []Fault{{Kind: Kill, Target: Target{Role: "sentinel", Selector: One}}}
	out, err := s.Dump()
	if err != nil || !strings.Contains(string(out), "{role: sentinel, select: one}") {
		t.Fatalf("dump = %s, %v; want the role target written back", out, err)
	}
}

// TestSelectorConstantsAreTheFaultsPackages: every selector the schema
// names is one the faults package declares and resolves.
func TestSelectorConstantsAreTheFaultsPackages(t *testing.T) {
	for _, s := range []Selector{Primary, Standby, Standbys, One, Minority, Majority, All} {
		if !slices.Contains(faults.Selectors, string(s)) {
			t.Errorf("selector %q is not declared by the faults package", s)
		}
	}
	if len(Selectors()) != len(faults.Selectors) {
		t.Errorf("schema lists %d selectors, faults declares %d", len(Selectors()), len(faults.Selectors))
	}
}
