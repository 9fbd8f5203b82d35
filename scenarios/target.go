package scenarios

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hadrill/hadrill/faults/kind"
)

// Target says which nodes a fault hits. Most faults take one Selector,
// written as a plain string (target: primary). A partition takes one of
// three shapes, written as a mapping:
//
//	{isolate: primary}          cut these nodes off from all the others
//	{groups: [[n1], [n2, n3]]}  nodes talk only within their group
//	{from: [n1], to: [n2, n3]}  one way: drop what from sends to to
//
// Selectors pick among the data nodes. A system's auxiliary nodes (a
// Sentinel, a monitor) are addressed by role, for any fault kind:
//
//	{role: sentinel}            every node of the role
//	{role: sentinel, select: one}  a selector among the role's nodes
//
// A partition written with a plain selector means isolate; Parse rewrites it
// to that form, so a partition target always has Isolate, Groups or From/To.
type Target struct {
	Selector Selector
	// Role, when set, makes Selector pick among the nodes of that role
	// (default all of them) instead of the data nodes.
	Role    string
	Isolate Selector
	// Groups hold node names (n1..nN); every node is in exactly one group.
	Groups [][]string
	// From and To hold selectors or node names.
	From []Selector
	To   []Selector
}

// targetMap is the mapping form of a Target, as written in files.
type targetMap struct {
	Role    string       `yaml:"role,omitempty"`
	Select  Selector     `yaml:"select,omitempty"`
	Isolate Selector     `yaml:"isolate,omitempty"`
	Groups  [][]string   `yaml:"groups,omitempty,flow"`
	From    selectorList `yaml:"from,omitempty,flow"`
	To      selectorList `yaml:"to,omitempty,flow"`
}

// selectorList accepts one selector or a list of them.
type selectorList []Selector

func (l *selectorList) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		*l = selectorList{Selector(n.Value)}
		return
	}
	var s []Selector
	d.decodeSlice(n, path, reflect.ValueOf(&s).Elem())
	*l = s
}

func (t *Target) decodeNode(d *decoder, n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		*t = Target{Selector: Selector(n.Value)}
	case yaml.MappingNode:
		var m targetMap
		d.decodeStruct(n, path, reflect.ValueOf(&m).Elem())
		*t = Target{Isolate: m.Isolate, Groups: m.Groups, From: m.From, To: m.To}
		if m.Role != "" || m.Select != "" {
			t.Role, t.Selector = m.Role, m.Select
			if t.Selector == "" {
				t.Selector = All
			}
		}
	default:
		d.fail(n, path, "want a target like primary or {isolate: primary}, got %s", describe(n))
	}
}

// MarshalYAML writes the string form for a single selector and a flow
// mapping otherwise.
func (t Target) MarshalYAML() (any, error) {
	if t.Selector != "" && t.Role == "" {
		return string(t.Selector), nil
	}
	var n yaml.Node
	m := targetMap{Isolate: t.Isolate, Groups: t.Groups, From: t.From, To: t.To, Role: t.Role}
	if t.Role != "" {
		m.Select = t.Selector
	}
	err := n.Encode(m)
	n.Style = yaml.FlowStyle
	return &n, err
}

// ForKind returns the target in the form a fault of that kind uses: for a
// kind that cuts the cluster into sides (a partition), a plain selector
// becomes {isolate: selector}. Parse does this
// for fixed faults; a runner does it for nemesis targets, which are plain
// selectors.
func (t Target) ForKind(k FaultKind) Target {
	if k.Sides() && t.Selector != "" && t.Role == "" {
		return Target{Isolate: t.Selector}
	}
	return t
}

// String is a short human form, for logs and fault events.
func (t Target) String() string {
	switch {
	case t.Role != "":
		return string(t.Selector) + " of role " + t.Role
	case t.Selector != "":
		return string(t.Selector)
	case t.Isolate != "":
		return "isolate " + string(t.Isolate)
	case t.Groups != nil:
		parts := make([]string, len(t.Groups))
		for i, g := range t.Groups {
			parts[i] = strings.Join(g, ",")
		}
		return "groups " + strings.Join(parts, " | ")
	}
	return fmt.Sprintf("from %s to %s", joinSelectors(t.From), joinSelectors(t.To))
}

func joinSelectors(ss []Selector) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// NodeName is the name of the k-th node (from 1), as selectors write it.
func NodeName(k int) string { return kind.NodeName(k) }
