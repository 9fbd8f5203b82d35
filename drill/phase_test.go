package drill

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestDocsListThePhases holds docs/DESIGN.md's numbered list of phases to
// the runner's declaration: same phases, same order.
func TestDocsListThePhases(t *testing.T) {
	b, err := os.ReadFile("../docs/DESIGN.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []Phase
	for _, m := range regexp.MustCompile(`(?m)^\d+\. \*\*([a-z ]+)\*\*:`).FindAllSubmatch(b, -1) {
		documented = append(documented, Phase(m[1]))
	}
	if !slices.Equal(documented, Phases) {
		t.Errorf("docs/DESIGN.md lists the phases %q, the runner declares %q", documented, Phases)
	}
}
