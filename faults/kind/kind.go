// Package kind declares hadrill's fault kinds: for each kind its name, the
// machinery that applies it (level), the parameters it takes with their
// types, bounds and defaults, what it does, and which targets it accepts. It
// also declares fault targets: the selector words and the Target value, with
// its file and record forms.
//
// It is the one home of these facts. The node agent registers an applier
// against each declared agent kind, the faults package an injector against
// each kind, the scenario schema validates files against the declarations
// and decodes targets into Target (which the faults package resolves),
// and `hadrill list` and docs/faults.md are rendered from them. The package
// is data: it links nothing that runs (no agent, no Docker, no netlink), so
// the schema can read it without linking the machinery.
package kind

import (
	"fmt"
	"slices"
	"strings"
)

// Name names a fault kind as scenario files, logs and the agent's API spell
// it.
type Name string

// Level says which machinery applies a kind, so a runner can refuse a
// scenario whose faults it cannot apply before building anything.
type Level string

// Fault levels.
const (
	// LevelContainer kinds use the Docker API from the host.
	LevelContainer Level = "container"
	// LevelAgent kinds need the node agent inside the node.
	LevelAgent Level = "agent"
)

// TargetRule says which target shapes a kind accepts.
type TargetRule string

// Target rules.
const (
	// TargetNodes: one selector, node name or role ({role, select}); the
	// kind acts on the picked nodes alone.
	TargetNodes TargetRule = "nodes"
	// TargetSides: the kind cuts the cluster into sides: a selector or
	// {isolate} (cut those nodes off), {groups}, or one-way {from, to}, or a
	// role (cut its nodes off from every other node). It needs 2 nodes.
	TargetSides TargetRule = "sides"
)

// Doc says in words which targets the rule accepts, for docs and list.
func (r TargetRule) Doc() string {
	if r == TargetSides {
		return "a selector or {isolate: s} to cut off, {groups: [[n1],[n2,n3]]}, one-way {from: [..], to: [..]}, or {role: r}; needs 2 nodes"
	}
	return "a selector, a node name, or {role: r, select: s}"
}

// Decl is the declaration of one fault kind: everything the schema, the
// runner, the agent and the docs need to know about it.
type Decl struct {
	Name  Name
	Level Level
	// Doc says what the kind does, in one line.
	Doc string
	// Mechanism says how it is done, for the docs.
	Mechanism string
	// Required are the parameters the fault cannot do without; Optional
	// those it may take. Both in the order they are listed.
	Required []Param
	Optional []Param
	// Defaults are the values of optional parameters a fault leaves out,
	// as a file writes them; the schema fills them in, so the scenario as
	// run states them.
	Defaults map[Param]string
	// AnyOf, when set, are parameters of which the fault needs at least one.
	AnyOf []Param
	// OneOf, when set, are parameters of which the fault takes at most one.
	OneOf []Param
	// Target is the target shapes the kind accepts.
	Target TargetRule
	// Preloads, when set, says what the kind preloads into the node's
	// process (LD_PRELOAD): the kind cannot apply to a static binary.
	Preloads string
	// Disk: the kind acts through the FUSE layer over the node's data
	// folder, which the node must then mount (and have the privileges for).
	Disk bool
}

// Takes reports whether the kind accepts the parameter.
func (d Decl) Takes(p Param) bool {
	return slices.Contains(d.Required, p) || slices.Contains(d.Optional, p)
}

// Requires reports whether the kind cannot do without the parameter.
func (d Decl) Requires(p Param) bool { return slices.Contains(d.Required, p) }

// table holds the declarations in the order they are declared (kinds.go).
var table []Decl

// declare adds a kind to the table and returns its name; each kind is a
// package variable initialised by declare, so its name and its
// declaration are written once, together.
func declare(d Decl) Name {
	if _, dup := Lookup(d.Name); dup {
		panic(fmt.Sprintf("fault kind %s declared twice", d.Name))
	}
	if d.Target == "" {
		d.Target = TargetNodes
	}
	table = append(table, d)
	return d.Name
}

// Decls lists every declaration, container kinds first.
func Decls() []Decl { return slices.Clone(table) }

// Lookup returns the declaration of a kind; ok is false for an unknown kind.
func Lookup(n Name) (Decl, bool) {
	for _, d := range table {
		if d.Name == n {
			return d, true
		}
	}
	return Decl{}, false
}

// Info returns the kind's declaration; ok is false for an unknown kind.
func (n Name) Info() (Decl, bool) { return Lookup(n) }

// Level returns the machinery the kind needs ("" for an unknown kind).
func (n Name) Level() Level {
	d, _ := Lookup(n)
	return d.Level
}

// NeedsDisk reports whether the kind acts through the FUSE layer over the
// node's data folder.
func (n Name) NeedsDisk() bool {
	d, _ := Lookup(n)
	return d.Disk
}

// Sides reports whether the kind cuts the cluster into sides (a partition).
func (n Name) Sides() bool {
	d, _ := Lookup(n)
	return d.Target == TargetSides
}

// Names lists the kinds of a level ("" for every level), in table order.
func Names(l Level) []Name {
	var out []Name
	for _, d := range table {
		if l == "" || d.Level == l {
			out = append(out, d.Name)
		}
	}
	return out
}

// KnownList is every kind, comma-separated, for error messages.
func KnownList() string {
	var names []string
	for _, d := range table {
		names = append(names, string(d.Name))
	}
	return strings.Join(names, ", ")
}
