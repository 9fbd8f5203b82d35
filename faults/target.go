package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/faults/kind"
)

// Target selects the nodes a fault hits. Targets are data, as in Jepsen:
// a selector word (primary, standbys, one, minority, majority, all) or
// explicit node names. Partitions use Groups instead: the cluster is cut into
// the given groups (Isolate is shorthand for {selected} vs the rest).
type Target struct {
	// Selector is one of the selector words, or empty when Nodes is set.
	Selector kind.Selector
	// Role, when set, makes Selector pick among the nodes of that role
	// rather than the data nodes. Partitions cut the picked nodes off from
	// every other node, of every role.
	Role string
	// Nodes names nodes explicitly.
	Nodes []string
	// Isolate, for partitions, cuts the selected node(s) off from the rest.
	Isolate kind.Selector
	// Groups, for partitions, are explicit sides.
	Groups [][]string
	// From and To, for one-way partitions, are selectors or node names:
	// traffic from From to To is dropped, the reverse still flows.
	From, To []kind.Selector
}

// String renders the target as the scenario wrote it, for records.
func (t Target) String() string {
	switch {
	case t.Role != "":
		return string(t.Selector) + "@" + t.Role
	case t.Isolate != "":
		return "isolate:" + string(t.Isolate)
	case len(t.Groups) > 0:
		parts := make([]string, len(t.Groups))
		for i, g := range t.Groups {
			parts[i] = strings.Join(g, ",")
		}
		return strings.Join(parts, "|")
	case len(t.From) > 0:
		return joinSelectors(t.From) + "->" + joinSelectors(t.To)
	case len(t.Nodes) > 0:
		return strings.Join(t.Nodes, ",")
	}
	return string(t.Selector)
}

func joinSelectors(ss []kind.Selector) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// Resolve picks the target's nodes, given every node name (sorted), the
// current primary ("" when unknown) and a seeded source for "one", so the
// same seed picks the same node.
func (t Target) Resolve(all []string, primary string, rng *rand.Rand) ([]string, error) {
	all = slices.Sorted(slices.Values(all))
	if len(t.Nodes) > 0 {
		for _, n := range t.Nodes {
			if !slices.Contains(all, n) {
				return nil, fmt.Errorf("target names unknown node %q (nodes: %s)", n, strings.Join(all, ","))
			}
		}
		return t.Nodes, nil
	}
	sel := t.Selector
	if t.Isolate != "" {
		sel = t.Isolate
		if slices.Contains(all, string(sel)) {
			return []string{string(sel)}, nil
		}
	}
	standbys := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == primary })
	if sel.NeedsPrimary() && primary == "" {
		return nil, fmt.Errorf("target %s: %w", sel, cluster.ErrNoPrimary)
	}
	switch sel {
	case kind.Primary:
		return []string{primary}, nil
	case kind.Standby:
		// One standby, seeded: killing every standby would take the
		// primary's quorum away, which is a different drill.
		if len(standbys) == 0 {
			return nil, errors.New("target standby: no standby")
		}
		return []string{standbys[rng.IntN(len(standbys))]}, nil
	case kind.Standbys:
		return standbys, nil
	case kind.One:
		return []string{all[rng.IntN(len(all))]}, nil
	case kind.All:
		return all, nil
	case kind.Minority, kind.Majority:
		// Shuffle deterministically, but keep the primary in the minority
		// when there is one: cutting off the primary is the interesting case.
		order := slices.Clone(standbys)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		if primary != "" {
			order = append([]string{primary}, order...)
		}
		k := (len(all) - 1) / 2
		if sel == kind.Majority {
			k = len(all)/2 + 1
		}
		return slices.Sorted(slices.Values(order[:k])), nil
	}
	var words []string
	for _, d := range kind.Selectors() {
		words = append(words, string(d.Selector))
	}
	return nil, fmt.Errorf("unknown target %q (want one of %s or node names)", sel, strings.Join(words, ", "))
}

// OneWay reports whether the partition drops traffic in one direction only.
func (t Target) OneWay() bool { return len(t.From) > 0 }

// Sides returns the partition sides for a partition target: the resolved
// nodes on one side and the rest on the other, the explicit groups, or for a
// one-way partition the From side then the To side.
func (t Target) Sides(all []string, primary string, rng *rand.Rand) ([][]string, error) {
	if len(t.Groups) > 0 {
		return t.Groups, nil
	}
	if t.OneWay() {
		from, err := resolveAll(t.From, all, primary, rng)
		if err != nil {
			return nil, fmt.Errorf("partition from: %w", err)
		}
		to, err := resolveAll(t.To, all, primary, rng)
		if err != nil {
			return nil, fmt.Errorf("partition to: %w", err)
		}
		return [][]string{from, to}, nil
	}
	in, err := t.Resolve(all, primary, rng)
	if err != nil {
		return nil, err
	}
	var rest []string
	for _, n := range all {
		if !slices.Contains(in, n) {
			rest = append(rest, n)
		}
	}
	return [][]string{in, rest}, nil
}

// resolveAll resolves a list of selectors or node names into sorted, unique
// node names.
func resolveAll(sel []kind.Selector, all []string, primary string, rng *rand.Rand) ([]string, error) {
	var out []string
	for _, s := range sel {
		t := Target{Selector: s}
		if slices.Contains(all, string(s)) {
			t = Target{Nodes: []string{string(s)}}
		}
		ns, err := t.Resolve(all, primary, rng)
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
