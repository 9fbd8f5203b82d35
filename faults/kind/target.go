package kind

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// Target says which nodes a fault hits. Targets are data, as in Jepsen: the
// scenario schema decodes and checks them, the faults package resolves them
// against the running cluster, and both use this one type. Most faults take
// one Selector, written as a plain string (target: primary): a selector word
// or a node name. A partition takes one of three shapes, written as a
// mapping:
//
//	{isolate: primary}          cut these nodes off from all the others
//	{groups: [[n1], [n2, n3]]}  nodes talk only within their group
//	{from: [n1], to: [n2, n3]}  one way: drop what from sends to to
//
// Selectors pick among the data nodes. A system's auxiliary nodes (a
// Sentinel, a monitor) are addressed by role, for any fault kind:
//
//	{role: sentinel}               every node of the role
//	{role: sentinel, select: one}  a selector among the role's nodes
//
// A partition written with a plain selector means isolate (ForKind), so a
// partition target has Isolate, Groups or From/To, or a Role.
type Target struct {
	// Selector is a selector word or a node name n1..nN.
	Selector Selector
	// Role, when set, makes Selector pick among the nodes of that role
	// (default all of them) instead of the data nodes. Partitions cut the
	// picked nodes off from every other node, of every role.
	Role string
	// Isolate, for partitions, cuts the selected node(s) off from the rest.
	Isolate Selector
	// Groups, for partitions, are explicit sides: node names (n1..nN), every
	// node in exactly one group.
	Groups [][]string
	// From and To, for one-way partitions, are selectors or node names:
	// traffic from From to To is dropped, the reverse still flows.
	From, To []Selector
}

// TargetMap is the mapping form of a Target, as files write it: the schema
// decodes a mapping into it (Target then reads it) and MarshalYAML writes it.
type TargetMap struct {
	Role    string       `yaml:"role,omitempty"`
	Select  Selector     `yaml:"select,omitempty"`
	Isolate Selector     `yaml:"isolate,omitempty"`
	Groups  [][]string   `yaml:"groups,omitempty,flow"`
	From    SelectorList `yaml:"from,omitempty,flow"`
	To      SelectorList `yaml:"to,omitempty,flow"`
}

// SelectorList is the form of from and to in files: one selector or a list
// of them.
type SelectorList []Selector

// Target is the target the mapping writes: a role without select picks all
// of the role's nodes.
func (m TargetMap) Target() Target {
	t := Target{Isolate: m.Isolate, Groups: m.Groups, From: m.From, To: m.To}
	if m.Role != "" || m.Select != "" {
		t.Role, t.Selector = m.Role, m.Select
		if t.Selector == "" {
			t.Selector = All
		}
	}
	return t
}

// MarshalYAML writes the string form for a single selector and a flow
// mapping otherwise, so a scenario written back reads as it was written.
func (t Target) MarshalYAML() (any, error) {
	if t.Selector != "" && t.Role == "" {
		return string(t.Selector), nil
	}
	var n yaml.Node
	m := TargetMap{Isolate: t.Isolate, Groups: t.Groups, From: t.From, To: t.To, Role: t.Role}
	if t.Role != "" {
		m.Select = t.Selector
	}
	err := n.Encode(m)
	n.Style = yaml.FlowStyle
	return &n, err
}

// ForKind returns the target in the form a fault of kind k uses: for a kind
// that cuts the cluster into sides (a partition), a plain selector becomes
// {isolate: selector}. The schema does this for fixed faults; a runner does
// it for nemesis targets, which are plain selectors.
func (t Target) ForKind(k Name) Target {
	if k.Sides() && t.Selector != "" && t.Role == "" {
		return Target{Isolate: t.Selector}
	}
	return t
}

// OneWay reports whether the partition drops traffic in one direction only.
func (t Target) OneWay() bool { return len(t.From) > 0 }

// Node returns the node the target names when it is one node name (n1..nN)
// among the data nodes, rather than a selector word or a role's selector.
func (t Target) Node() (string, bool) {
	if _, ok := t.Selector.Node(); ok && t.Role == "" {
		return string(t.Selector), true
	}
	return "", false
}

// String renders the target in the short form fault records keep
// (faults.jsonl, the verdict): "primary", "n2", "one@sentinel",
// "isolate:primary", "n1|n2,n3", "n1->n2,n3".
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
	}
	return string(t.Selector)
}

func joinSelectors(ss []Selector) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}
