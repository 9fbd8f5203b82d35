package runreport

import (
	"testing"

	"github.com/hadrill/hadrill/history"
)

// TestSeriesPlacesTheSystemsClaims: the primary panel follows what the
// nodes said (roles.jsonl), and two claimants in one second are flagged as
// a possible split brain, even when only one node acknowledged writes.
func TestSeriesPlacesTheSystemsClaims(t *testing.T) {
	sec := int64(1e9)
	roles := []history.RoleSample{
		{Time: 0, Primary: "n1", Claims: []history.RoleClaim{{Node: "n1", Role: "primary"}, {Node: "n2", Role: "standby"}}},
		{Time: 3 * sec, Primary: "n2", Claims: []history.RoleClaim{{Node: "n1", Role: "primary"}, {Node: "n2", Role: "primary"}}},
		{Time: 5 * sec, Claims: []history.RoleClaim{{Node: "n3", Error: "timeout"}}},
	}
	s := buildSeries(nil, roles, nil, 6)
	if !s.Claims[0]["n1"] || s.Claims[0]["n2"] {
		t.Errorf("bucket 0 claims %v, want n1 only", s.Claims[0])
	}
	if len(s.MultiClaimSpans) != 1 || s.MultiClaimSpans[0] != 3 {
		t.Errorf("multi-claim buckets %v, want [3]", s.MultiClaimSpans)
	}
	if len(s.Nodes) != 3 {
		t.Errorf("nodes %v, want n1..n3 (an unreachable node still gets its row)", s.Nodes)
	}
	if _, _, err := primaryPlot(s, nil); err != nil {
		t.Fatal(err)
	}
}
