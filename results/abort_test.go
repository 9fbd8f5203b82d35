package results

import (
	"testing"

	"github.com/hadrill/hadrill/checker"
)

// TestAbortedRunsCountAsFailed: a drill report counts an aborted run with
// the failed ones and draws it as one, never as unknown.
func TestAbortedRunsCountAsFailed(t *testing.T) {
	s := scenarioDrill("x", []Run{{Verdict: &Verdict{Verdict: checker.Aborted}}, {Verdict: &Verdict{Verdict: checker.Pass}}})
	if s.Failed != 1 || s.Unknown != 0 || s.Passed != 1 {
		t.Errorf("passed/failed/unknown = %d/%d/%d, want 1/1/0", s.Passed, s.Failed, s.Unknown)
	}
	if g := trendGroup(checker.Aborted, 1); g != "fail" {
		t.Errorf("an aborted run is drawn as %q, want fail", g)
	}
}

func TestAbortReadsAsOneLine(t *testing.T) {
	a := Abort{Condition: "probe", At: 42.5, Detail: "GET http://127.0.0.1:9/ failed 3 times in a row"}
	if got, want := a.String(), "probe at 42.50 s: GET http://127.0.0.1:9/ failed 3 times in a row"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
