package kind

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Selector picks the nodes a fault hits. It is one of the selector words
// below, resolved when the fault starts (so "primary" follows failovers), or
// a node name n1..nN (nodes are numbered from 1 in the order they are
// created). Targets are data, as in Jepsen; the faults package resolves
// them, the schema checks them, and both read the words from here.
type Selector string

// The selector words. Random choices use the scenario's seed.
const (
	Primary  Selector = "primary"
	Standby  Selector = "standby"
	Standbys Selector = "standbys"
	One      Selector = "one"
	Minority Selector = "minority"
	Majority Selector = "majority"
	All      Selector = "all"
)

// SelectorDecl is one selector word and what it picks.
type SelectorDecl struct {
	Selector Selector
	Doc      string
}

// selectorDecls declare the words, in the order they are listed. They pick
// among the data nodes, or among a role's nodes.
var selectorDecls = []SelectorDecl{
	{Primary, "the node that is primary when the fault starts"},
	{Standby, "one standby, chosen with the seed"},
	{Standbys, "every standby"},
	{One, "one node, chosen with the seed"},
	{Minority, "(n-1)/2 nodes, chosen with the seed"},
	{Majority, "n/2+1 nodes, chosen with the seed"},
	{All, "every node"},
}

// Selectors lists the selector words; node names n1..nN are accepted too.
func Selectors() []SelectorDecl { return slices.Clone(selectorDecls) }

// Word reports whether s is a selector word (not a node name).
func (s Selector) Word() bool {
	return slices.ContainsFunc(selectorDecls, func(d SelectorDecl) bool { return d.Selector == s })
}

// NeedsPrimary reports whether the selector is resolved around the primary,
// and so cannot pick nodes while none is known, or among a role's nodes.
func (s Selector) NeedsPrimary() bool { return s == Primary || s == Standby || s == Standbys }

// Node returns k when the selector is the node name nk (k from 1).
func (s Selector) Node() (int, bool) {
	num, ok := strings.CutPrefix(string(s), "n")
	if !ok || num == "" || num[0] == '0' {
		return 0, false
	}
	k, err := strconv.Atoi(num)
	return k, err == nil && k > 0
}

// NodeName is the name of the k-th node (from 1), as selectors write it.
func NodeName(k int) string { return "n" + strconv.Itoa(k) }

// Problem returns why the selector cannot be used in a cluster of n nodes,
// or "" when it can.
func (s Selector) Problem(n int) string {
	if k, ok := s.Node(); ok {
		if k > n {
			return fmt.Sprintf("%s names no node (%s)", s, ClusterNodes(n))
		}
		return ""
	}
	switch s {
	case Primary, One, Majority, All:
		return ""
	case Standby, Standbys:
		if n < 2 {
			return fmt.Sprintf("%s names no node in a 1-node cluster", s)
		}
		return ""
	case Minority:
		if (n-1)/2 < 1 {
			return fmt.Sprintf("minority names no node in a %d-node cluster", n)
		}
		return ""
	case "":
		return "empty target"
	}
	names := make([]string, 0, len(selectorDecls)+1)
	for _, d := range selectorDecls {
		names = append(names, string(d.Selector))
	}
	names = append(names, "a node "+clusterRange(n))
	return fmt.Sprintf("unknown target %q (want %s or %s)", s, strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

func clusterRange(n int) string {
	if n == 1 {
		return "n1"
	}
	return "n1.." + NodeName(n)
}

// ClusterNodes says which node names a cluster of n nodes has, for error
// messages.
func ClusterNodes(n int) string {
	if n == 1 {
		return "the cluster has only n1"
	}
	return "the cluster has " + clusterRange(n)
}
