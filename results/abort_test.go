package results

import "testing"

func TestAbortReadsAsOneLine(t *testing.T) {
	a := Abort{Condition: "probe", At: 42.5, Detail: "GET http://127.0.0.1:9/ failed 3 times in a row"}
	if got, want := a.String(), "probe at 42.50 s: GET http://127.0.0.1:9/ failed 3 times in a row"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
