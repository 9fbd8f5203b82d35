package faults

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hadrill/hadrill/faults/kind"
)

// roledNode is a fakeNode that says its role, as cluster nodes do.
type roledNode struct {
	*fakeNode
	role string
}

func (r roledNode) Role() string { return r.role }

// TestRoleTargets: selectors pick among the data nodes only, a role target
// picks among that role's nodes, and isolating a data node cuts it off from
// the auxiliary nodes too.
func TestRoleTargets(t *testing.T) {
	var env Env
	var nodes []Node
	for _, n := range []struct{ name, role string }{
		{"n1", "data"}, {"n2", "data"}, {"n3", "data"}, {"s1", "sentinel"}, {"s2", "sentinel"},
	} {
		nodes = append(nodes, roledNode{&fakeNode{name: n.name}, n.role})
	}
	env = testEnv(nil, &memRecorder{})
	env.Nodes = nodes
	nem, err := New(env, Fixed(nil))
	if err != nil {
		t.Fatal(err)
	}
	names := func(ns []Node) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.Name())
		}
		slices.Sort(out)
		return out
	}
	cases := []struct {
		name   string
		kind   string
		target Target
		hit    []string
		rest   []string // the far side of a partition
	}{
		{"all means data nodes", "kill", Target{Selector: "all"}, []string{"n1", "n2", "n3"}, nil},
		{"standbys are data nodes", "kill", Target{Selector: "standbys"}, []string{"n2", "n3"}, nil},
		{"a role", "kill", Target{Selector: "all", Role: "sentinel"}, []string{"s1", "s2"}, nil},
		{"one of a role", "pause", Target{Selector: "one", Role: "sentinel"}, nil, nil},
		{"isolate primary from everyone", "partition", Target{Isolate: "primary"}, []string{"n1"}, []string{"n2", "n3", "s1", "s2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, _, err := nem.resolve(context.Background(), Planned{Spec: Spec{Kind: tc.kind, Target: tc.target}})
			if err != nil {
				t.Fatal(err)
			}
			got := names(h.Nodes)
			if tc.hit == nil {
				if len(got) != 1 || (got[0] != "s1" && got[0] != "s2") {
					t.Errorf("hit %v, want one sentinel", got)
				}
				return
			}
			if !slices.Equal(got, tc.hit) {
				t.Errorf("hit %v, want %v", got, tc.hit)
			}
			if tc.rest != nil && (len(h.Sides) != 2 || !slices.Equal(names(h.Sides[1]), tc.rest)) {
				t.Errorf("sides %v, want far side %v", h.Sides, tc.rest)
			}
		})
	}
}

// TestEveryDeclaredSelectorResolves: Resolve implements every selector word
// package kind declares.
func TestEveryDeclaredSelectorResolves(t *testing.T) {
	all := []string{"n1", "n2", "n3"}
	for _, d := range kind.Selectors() {
		got, err := Resolve(Target{Selector: d.Selector}, all, "n1", rand.New(rand.NewPCG(1, 2)))
		if err != nil || len(got) == 0 {
			t.Errorf("selector %s resolves to %v, %v", d.Selector, got, err)
		}
	}
}
