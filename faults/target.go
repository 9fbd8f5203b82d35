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

// Target selects the nodes a fault hits. It is declared, with its file
// form and its record form (String), in package kind, where the scenario
// schema reads it too; this package resolves it against a running cluster.
type Target = kind.Target

// Resolve picks the target's nodes, given every node name it picks among
// (the data nodes, or the nodes of its role), the current primary ("" when
// unknown) and a seeded source for "one", so the same seed picks the same
// node. It lives here rather than with Target in package kind because "no
// primary" is cluster.ErrNoPrimary, which the nemesis waits out, and the
// declaration links nothing of the cluster.
func Resolve(t Target, all []string, primary string, rng *rand.Rand) ([]string, error) {
	all = slices.Sorted(slices.Values(all))
	if n, ok := t.Node(); ok {
		if !slices.Contains(all, n) {
			return nil, fmt.Errorf("target names unknown node %q (nodes: %s)", n, strings.Join(all, ","))
		}
		return []string{n}, nil
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

// Sides returns the partition sides for a partition target: the resolved
// nodes on one side and the rest on the other, the explicit groups, or for a
// one-way partition the From side then the To side.
func Sides(t Target, all []string, primary string, rng *rand.Rand) ([][]string, error) {
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
	in, err := Resolve(t, all, primary, rng)
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
		ns, err := Resolve(Target{Selector: s}, all, primary, rng)
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
