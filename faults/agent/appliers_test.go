package agent

import (
	"testing"

	"github.com/hadrill/hadrill/faults/kind"
)

// TestAppliersMatchDeclarations: every agent-level kind declared in package
// kind has an applier, and every applier is for a declared agent-level kind.
func TestAppliersMatchDeclarations(t *testing.T) {
	for _, k := range kind.Names(kind.LevelAgent) {
		if appliers[k] == nil {
			t.Errorf("agent kind %s is declared but has no applier (register it in its implementation file)", k)
		}
	}
	for k := range appliers {
		if k.Level() != kind.LevelAgent {
			t.Errorf("applier for %s, which is not a declared agent kind (declare it in package kind)", k)
		}
	}
}
