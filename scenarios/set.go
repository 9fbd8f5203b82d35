package scenarios

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Set applies one override, "path=value", as given to --set: for example
// cluster.image=hakv:candidate, workload.rate=100/s,
// cluster.options.replication=async or faults[0].at=12s.
//
// The path names any field of the file format: mapping keys joined by dots,
// with [i] for list items. Fields the file left out are created; list items
// must exist. The value is YAML, so lists and mappings work too
// (nemesis.kinds=[kill,pause], faults[0].target={isolate: n2}); an empty
// value is the empty string. The override is made on the YAML tree the
// scenario came from, and the whole scenario is decoded and checked again, so
// an override gets exactly the checks and messages of a file; its own errors
// are reported as "--set: path: ...". On error s is unchanged.
//
// Apply overrides before changing the scenario in Go (EnsureSeed and the
// like): Set then works from the file and errors keep the file's lines;
// afterwards it works from the changed values, without lines.
func Set(s *Scenario, assignment string) error {
	pathText, value, ok := strings.Cut(assignment, "=")
	pathText = strings.TrimSpace(pathText)
	if !ok || pathText == "" {
		return setError(pathText, "want path=value, like cluster.image=hakv:dev")
	}
	segs, err := parseSetPath(pathText)
	if err != nil {
		return setError(pathText, err.Error())
	}
	val, err := parseSetValue(value)
	if err != nil {
		return setError(pathText, err.Error())
	}
	root, err := s.source()
	if err != nil {
		return err
	}
	if err := assign(root, segs, val); err != nil {
		return setError(pathText, err.Error())
	}
	file := s.file
	if file == "" {
		file = s.Name
	}
	ns, err := decodeScenario(root, file)
	if err != nil {
		return err
	}
	*s = *ns
	return nil
}

func setError(path, msg string) error {
	return ValidationErrors{{File: setFile, Path: path, Msg: msg}}
}

// pathSeg is one step of a --set path: a mapping key, or a list index when
// key is empty.
type pathSeg struct {
	key   string
	index int
}

var segRE = regexp.MustCompile(`^([A-Za-z0-9_-]+)((?:\[[0-9]+\])*)$`)
var indexRE = regexp.MustCompile(`[0-9]+`)

func parseSetPath(path string) ([]pathSeg, error) {
	var segs []pathSeg
	for part := range strings.SplitSeq(path, ".") {
		m := segRE.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("invalid path (want field names joined by dots, like workload.rate or faults[0].at)")
		}
		segs = append(segs, pathSeg{key: m[1]})
		for _, num := range indexRE.FindAllString(m[2], -1) {
			i, err := strconv.Atoi(num)
			if err != nil {
				return nil, fmt.Errorf("invalid index %s", num)
			}
			segs = append(segs, pathSeg{index: i})
		}
	}
	return segs, nil
}

func parseSetValue(value string) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
	if strings.TrimSpace(value) != "" {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(value), &doc); err != nil {
			return nil, fmt.Errorf("invalid value %q: %s", value, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		if len(doc.Content) == 1 {
			n = doc.Content[0]
		}
	}
	markSet(n)
	return n, nil
}

// markSet marks a tree as coming from --set, so its errors say so.
func markSet(n *yaml.Node) {
	n.Line, n.Column = 0, setColumn
	for _, c := range n.Content {
		markSet(c)
	}
}

// assign puts val at segs in the tree, creating missing mapping keys.
func assign(root *yaml.Node, segs []pathSeg, val *yaml.Node) error {
	n := root
	if n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	for i, seg := range segs {
		if n.Kind == yaml.AliasNode {
			*n = *copyNode(n.Alias) // change this use only, not the anchor
		}
		last, where := i == len(segs)-1, pathText(segs[:i])
		var slot **yaml.Node
		if seg.key != "" {
			if isNull(n) {
				*n = yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
			}
			if n.Kind != yaml.MappingNode {
				return fmt.Errorf("%s is not a mapping", where)
			}
			slot = mappingSlot(n, seg.key, !last && segs[i+1].key == "")
		} else {
			if isNull(n) {
				*n = yaml.Node{Kind: yaml.SequenceNode, Line: n.Line, Column: n.Column}
			}
			if n.Kind != yaml.SequenceNode {
				return fmt.Errorf("%s is not a list", where)
			}
			if seg.index >= len(n.Content) {
				return fmt.Errorf("no such item (%s has %d)", where, len(n.Content))
			}
			slot = &n.Content[seg.index]
		}
		if last {
			*slot = val
			return nil
		}
		n = *slot
	}
	return nil
}

// mappingSlot returns the value slot of key in a mapping, adding the key
// (with an empty list or mapping, as the path goes on) when it is missing.
func mappingSlot(n *yaml.Node, key string, list bool) **yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return &n.Content[i+1]
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Column: setColumn}
	v := &yaml.Node{Kind: yaml.MappingNode, Column: setColumn}
	if list {
		v.Kind = yaml.SequenceNode
	}
	n.Content = append(n.Content, k, v)
	return &n.Content[len(n.Content)-1]
}

func pathText(segs []pathSeg) string {
	var b strings.Builder
	for _, s := range segs {
		if s.key == "" {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// source returns a copy of the tree to edit: the one the scenario was
// decoded from while the scenario still matches it, or else the scenario's
// current values encoded afresh.
func (s *Scenario) source() (*yaml.Node, error) {
	if s.src != nil {
		prev, err := decodeScenario(copyNode(s.src), s.file)
		if err == nil && sameValues(prev, s) {
			return copyNode(s.src), nil
		}
	}
	var n yaml.Node
	if err := n.Encode(s); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", s.Name, err)
	}
	return &n, nil
}

func sameValues(a, b *Scenario) bool {
	x, y := *a, *b
	x.src, y.src, x.file, y.file = nil, nil, "", ""
	return reflect.DeepEqual(x, y)
}

// copyNode deep-copies a tree, keeping aliases pointing at the copied
// anchors.
func copyNode(n *yaml.Node) *yaml.Node {
	return copyWith(n, map[*yaml.Node]*yaml.Node{})
}

func copyWith(n *yaml.Node, seen map[*yaml.Node]*yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if c, ok := seen[n]; ok {
		return c
	}
	c := *n
	seen[n] = &c
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = copyWith(ch, seen)
	}
	c.Alias = copyWith(n.Alias, seen)
	return &c
}
