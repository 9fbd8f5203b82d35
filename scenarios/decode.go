package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hadrill/hadrill/faults/kind"
)

// The decoder walks a YAML node tree against the Go types of the schema, by
// reflection on their yaml tags. Doing the walk here rather than in yaml.v3
// gives every error its field path as well as its line, lets one pass collect
// every error, and records where each field was written so that later checks
// can point at it too.

// setColumn marks nodes that came from Set rather than from the file.
const setColumn = -1

// position is where a field was written.
type position struct {
	file      string
	line, col int
}

type decoder struct {
	file  string
	errs  ValidationErrors
	pos   map[string]position // field path -> where its value was written
	bad   map[string]bool     // field paths whose value was rejected
	nodes int
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]position{}, bad: map[string]bool{}}
}

// nodeDecoder is implemented by schema types that accept several YAML shapes
// (like a target, which is a string or a mapping); nodeDecoderOf finds it.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

// defaulter is implemented by types whose fresh values start from defaults
// rather than zero, like a nemesis block.
type defaulter interface{ setDefaults() }

func (d *decoder) where(n *yaml.Node) position {
	if n.Column == setColumn {
		return position{file: setFile}
	}
	return position{file: d.file, line: n.Line, col: n.Column}
}

func (d *decoder) add(p position, path, msg string) {
	d.errs = append(d.errs, FieldError{File: p.file, Line: p.line, Column: p.col, Path: path, Msg: msg})
	d.bad[path] = true
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.add(d.where(n), path, fmt.Sprintf(format, args...))
}

// decode stores the value of n into v (addressable). A null value counts as
// absent: v keeps its default.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if d.nodes++; d.nodes > maxValues {
		// checkValues refused such a document before decoding; this
		// bound only keeps the walk finite whatever the caller did.
		if d.nodes == maxValues+1 {
			d.fail(n, path, "document too large: more than %d YAML values to decode", maxValues)
		}
		return
	}
	if isNull(n) {
		return
	}
	d.pos[path] = d.where(n)
	if nd, ok := nodeDecoderOf(v.Addr().Interface()); ok {
		nd.decodeNode(d, n, path)
		return
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		if err := u.UnmarshalYAML(n); err != nil {
			d.fail(n, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		if def, ok := elem.Interface().(defaulter); ok {
			def.setDefaults()
		}
		d.decode(n, path, elem.Elem())
		v.Set(elem)
	case reflect.Struct:
		d.decodeStruct(n, path, v)
	case reflect.Slice:
		d.decodeSlice(n, path, v)
	case reflect.Map:
		d.decodeMap(n, path, v)
	default:
		d.decodeScalar(n, path, v)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the shape of a node for messages (kind.Describe).
var describe = kind.Describe

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// field is a struct field as the schema sees it.
type field struct {
	name     string
	index    []int
	required bool
}

// fields lists the yaml-tagged exported fields of t, flattening inline ones.
func fields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("yaml")
		if !ok || tag == "-" || !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			for _, f := range fields(sf.Type) {
				f.index = append([]int{i}, f.index...)
				out = append(out, f)
			}
			continue
		}
		out = append(out, field{name: name, index: []int{i}, required: sf.Tag.Get("hadrill") == "required"})
	}
	return out
}

func (d *decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", describe(n))
		return
	}
	known := map[string]field{}
	fs := fields(v.Type())
	for _, f := range fs {
		known[f.name] = f
	}
	merged := d.eachPair(n, path, func(key string, k, val *yaml.Node) {
		f, ok := known[key]
		if !ok {
			d.fail(k, join(path, key), "unknown field")
			return
		}
		d.decode(val, join(path, key), v.FieldByIndex(f.index))
	})
	if merged {
		return // the missing fields are likely in the merge; one error is enough
	}
	for _, f := range fs {
		p := join(path, f.name)
		if _, seen := d.pos[p]; f.required && !seen && !d.bad[p] {
			d.fail(n, p, "required")
		}
	}
}

// eachPair calls fn for each key of a mapping, rejecting keys that are not
// plain names, merge keys and repeated keys. It reports whether the mapping
// had a merge key.
func (d *decoder) eachPair(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) (merged bool) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			d.fail(k, path, "a key must be a name, got %s", describe(k))
			continue
		case k.ShortTag() == "!!merge":
			d.fail(k, path, "merge keys (<<) are not supported; write the fields out")
			merged = true
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.fail(k, join(path, k.Value), "repeated field (first on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		fn(k.Value, k, val)
	}
	return merged
}

func (d *decoder) decodeSlice(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if isNull(c) {
			d.fail(c, p, "empty list item")
			continue
		}
		elem := s.Index(i)
		if def, ok := elem.Addr().Interface().(defaulter); ok {
			def.setDefaults()
		}
		d.decode(c, p, elem)
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	d.eachPair(n, path, func(key string, k, val *yaml.Node) {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, join(path, key), elem)
		if _, ok := d.pos[join(path, key)]; !ok {
			d.pos[join(path, key)] = d.where(k) // a null value: point at the key
		}
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	})
	v.Set(m)
}

func (d *decoder) decodeScalar(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a single value, got %s", describe(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if err := n.Decode(&b); err != nil {
			d.fail(n, path, "want true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		var i int64
		// yaml.v3 would truncate 0.5 to 0 without a word: check the tag.
		if err := n.Decode(&i); n.ShortTag() != "!!int" || err != nil || v.OverflowInt(i) {
			d.fail(n, path, "want a whole number, got %q", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		tag := n.ShortTag()
		if err := n.Decode(&f); (tag != "!!int" && tag != "!!float") || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, path, "want a number, got %q", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		panic("scenarios: no decoder for " + v.Type().String())
	}
}
