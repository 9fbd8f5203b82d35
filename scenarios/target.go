package scenarios

import (
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/hadrill/hadrill/faults/kind"
)

// Target says which nodes a fault hits: a selector (target: primary), or a
// mapping for partitions and roles ({isolate: primary}, {groups: [[n1],
// [n2, n3]]}, {from: [n1], to: [n2]}, {role: sentinel, select: one}). The
// type, its file form and its record form are declared in package kind;
// the faults package resolves the same values. Parse rewrites a partition's
// plain selector to {isolate: selector} (ForKind).
type Target = kind.Target

// The schema's decoder finds how to read a type by its decodeNode method.
// Go allows methods only in a type's own package, so the target's types,
// declared in package kind, are read through the adapters below, converted
// to in place (nodeDecoderOf).

// targetNode reads a kind.Target: a plain selector or a TargetMap.
type targetNode kind.Target

func (t *targetNode) decodeNode(d *decoder, n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		*t = targetNode{Selector: Selector(n.Value)}
	case yaml.MappingNode:
		var m kind.TargetMap
		d.decodeStruct(n, path, reflect.ValueOf(&m).Elem())
		*t = targetNode(m.Target())
	default:
		d.fail(n, path, "want a target like primary or {isolate: primary}, got %s", describe(n))
	}
}

// selectorListNode reads a kind.SelectorList: one selector or a list of them.
type selectorListNode kind.SelectorList

func (l *selectorListNode) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode {
		*l = selectorListNode{Selector(n.Value)}
		return
	}
	var s []Selector
	d.decodeSlice(n, path, reflect.ValueOf(&s).Elem())
	*l = s
}

// nodeDecoderOf returns how the decoder reads into p (a pointer to the
// value): its own decodeNode method, or the adapter for a type of package
// kind.
func nodeDecoderOf(p any) (nodeDecoder, bool) {
	switch p := p.(type) {
	case nodeDecoder:
		return p, true
	case *kind.Target:
		return (*targetNode)(p), true
	case *kind.SelectorList:
		return (*selectorListNode)(p), true
	}
	return nil, false
}
