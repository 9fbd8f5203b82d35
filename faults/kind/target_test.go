package kind

import (
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestTargetString: the record form of each target shape, as faults.jsonl and
// the verdict keep it.
func TestTargetString(t *testing.T) {
	cases := map[string]Target{
		"primary":        {Selector: Primary},
		"n2":             {Selector: "n2"},
		"one@sentinel":   {Role: "sentinel", Selector: One},
		"isolate:n2":     {Isolate: "n2"},
		"n1|n2,n3":       {Groups: [][]string{{"n1"}, {"n2", "n3"}}},
		"n1->n2,primary": {From: []Selector{"n1"}, To: []Selector{"n2", Primary}},
	}
	for want, tg := range cases {
		if tg.String() != want {
			t.Errorf("String() = %q, want %q", tg.String(), want)
		}
	}
}

// TestTargetForKind: a partition's plain selector becomes isolate; other
// kinds and other shapes keep their target.
func TestTargetForKind(t *testing.T) {
	plain := Target{Selector: Primary}
	if got := plain.ForKind(Partition); got.Selector != "" || got.Isolate != Primary {
		t.Errorf("partition: %+v, want isolate primary", got)
	}
	if got := plain.ForKind(Kill); got.Selector != Primary || got.Isolate != "" {
		t.Errorf("kill: %+v, want the selector unchanged", got)
	}
	groups := Target{Groups: [][]string{{"n1"}, {"n2"}}}
	if got := groups.ForKind(Partition); len(got.Groups) != 2 {
		t.Errorf("groups changed: %+v", got)
	}
	role := Target{Role: "sentinel", Selector: One}
	if got := role.ForKind(Partition); !reflect.DeepEqual(got, role) {
		t.Errorf("role target changed: %+v", got)
	}
}

// TestTargetNode: only a node name among the data nodes names one node.
func TestTargetNode(t *testing.T) {
	cases := []struct {
		target Target
		want   string
		ok     bool
	}{
		{Target{Selector: "n2"}, "n2", true},
		{Target{Selector: Primary}, "", false},
		{Target{Selector: "n2", Role: "sentinel"}, "", false},
		{Target{Isolate: "n2"}, "", false},
	}
	for _, c := range cases {
		if got, ok := c.target.Node(); got != c.want || ok != c.ok {
			t.Errorf("%+v.Node() = %q, %v; want %q, %v", c.target, got, ok, c.want, c.ok)
		}
	}
}

// TestTargetMapRoundTrip: each shape is written in the form files use, and
// the mapping form reads back as the same target (a role without select
// means all of it).
func TestTargetMapRoundTrip(t *testing.T) {
	cases := map[string]Target{
		"primary":                         {Selector: Primary},
		"{isolate: n2}":                   {Isolate: "n2"},
		"{groups: [[n1], [n2, n3]]}":      {Groups: [][]string{{"n1"}, {"n2", "n3"}}},
		"{from: [n1], to: [n2, primary]}": {From: []Selector{"n1"}, To: []Selector{"n2", Primary}},
		"{role: sentinel, select: one}":   {Role: "sentinel", Selector: One},
		"{role: sentinel, select: all}":   {Role: "sentinel", Selector: All},
	}
	for want, tg := range cases {
		out, err := yaml.Marshal(tg)
		if err != nil || string(out) != want+"\n" {
			t.Errorf("Marshal(%+v) = %q, %v; want %q", tg, out, err, want)
		}
		if tg.Selector != "" && tg.Role == "" {
			continue
		}
		var m TargetMap
		if err := yaml.Unmarshal(out, &m); err != nil || !reflect.DeepEqual(m.Target(), tg) {
			t.Errorf("%s reads back as %+v, %v; want %+v", out, m.Target(), err, tg)
		}
	}
	if got := (TargetMap{Role: "sentinel"}).Target(); got.Selector != All {
		t.Errorf("{role: sentinel} = %+v, want select all", got)
	}
}
