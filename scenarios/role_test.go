package scenarios

import (
	"strings"
	"testing"
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
