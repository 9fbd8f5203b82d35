package checker

import (
	"strings"
	"testing"

	"github.com/hadrill/hadrill/history"
)

// TestFaultsApplied: a drill whose fault never took effect, failed, or was
// never healed is Unknown, naming the fault; a fault never requested (the
// run ended first) is not held against the run.
func TestFaultsApplied(t *testing.T) {
	ok := history.Fault{ID: 0, Kind: "kill", Target: "primary", Requested: 10, Effective: 11, Healed: 20}
	for _, tc := range []struct {
		name   string
		fault  history.Fault
		want   Result
		detail string
	}{
		{"applied and healed", ok, Pass, ""},
		{"never requested", history.Fault{ID: 0, Kind: "kill"}, Pass, ""},
		{"never took effect", history.Fault{ID: 0, Kind: "kill", Target: "primary", Requested: 10}, Unknown, "fault 0 (kill primary): never took effect"},
		{"injection error", history.Fault{ID: 0, Kind: "partition", Target: "primary", Requested: 10, Errors: []string{"no agent"}}, Unknown, "no agent"},
		{"never healed", history.Fault{ID: 0, Kind: "kill", Target: "primary", Requested: 10, Effective: 11}, Unknown, "never healed"},
		{"heal retried until it held", history.Fault{ID: 0, Kind: "disk-full", Target: "primary", Requested: 10, Effective: 11, Healed: 30,
			Errors: []string{"heal: heal on n2: connection refused"}}, Pass, ""},
		{"heal failed for good", history.Fault{ID: 0, Kind: "disk-full", Target: "primary", Requested: 10, Effective: 11,
			Errors: []string{"heal: heal on n2: connection refused"}}, Unknown, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := FaultsApplied(Input{Faults: []history.Fault{tc.fault}})
			if c.Result != tc.want || !strings.Contains(c.Detail, tc.detail) {
				t.Fatalf("got %q %q, want %q containing %q", c.Result, c.Detail, tc.want, tc.detail)
			}
		})
	}
}
