package scenarios

import (
	"reflect"
	"strings"
	"testing"
)

func TestEnginesAndPlacement(t *testing.T) {
	base := "duration: 20s\ncluster: {system: hakv, nodes: 3, engines: [local, second]"
	s, err := Parse([]byte(base+", placement: {n1: second}}\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Cluster.Engines, []string{"local", "second"}) || s.Cluster.Placement.Map["n1"] != "second" {
		t.Errorf("cluster = %+v", s.Cluster)
	}
	dump, err := s.Dump()
	if err != nil || !strings.Contains(string(dump), "n1: second") {
		t.Errorf("dump lacks the placement: %s %v", dump, err)
	}
	s, err = Parse([]byte(base+", placement: spread}\n"), "p.yaml")
	if err != nil || s.Cluster.Placement.Map != nil {
		t.Errorf("spread: %+v, %v", s, err)
	}
	if err := Set(s, "cluster.engines=[a,b,c]"); err != nil || len(s.Cluster.Engines) != 3 {
		t.Errorf("--set cluster.engines: %v %v", s.Cluster.Engines, err)
	}
	for in, want := range map[string]string{
		base + ", placement: {n1: third}}\n":             `cluster.placement.n1: engine "third" is not in cluster.engines`,
		base + ", placement: round-robin}\n":             "want spread or a node → engine map",
		"duration: 20s\ncluster: {engines: [a, a]}\n":    `engine "a" is empty or listed twice`,
		"duration: 20s\ncluster: {placement: {n1: a}}\n": "a placement map needs cluster.engines",
	} {
		if _, err := Parse([]byte(in), "p.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}
