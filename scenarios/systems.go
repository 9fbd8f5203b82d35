package scenarios

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Options are a system's settings, by option name. Values stay strings
// because each system turns them into its own flags or configuration
// (hakv: --replication async); the schema checks them against the system's
// OptionInfo.
type Options map[string]string

// MarshalYAML writes a one-line mapping in name order, with plain scalars
// (stale_reads: false rather than "false").
func (o Options) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := &yaml.Node{Kind: yaml.ScalarNode, Value: o[k]}
		switch o[k] {
		case "", "~", "null", "Null", "NULL":
			v.Tag = "!!str" // quoted, or it would read back as null
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
	}
	return n, nil
}

// OptionKind says how an option's value is checked.
type OptionKind string

// Option kinds.
const (
	OptionEnum     OptionKind = "enum"     // one of Values
	OptionDuration OptionKind = "duration" // a Duration like 2s
	OptionBool     OptionKind = "bool"     // true or false
)

// OptionInfo describes one cluster option of a system. Options are kept as
// strings in the scenario (Cluster.Options) because each system maps them to
// its own flags or config; the schema only checks them.
type OptionInfo struct {
	Name    string
	Kind    OptionKind
	Values  []string // for OptionEnum
	Default string
	Doc     string
}

// SystemInfo describes a system under test that the schema knows, so that its
// options are checked before anything starts.
type SystemInfo struct {
	Name    string
	Doc     string
	Options []OptionInfo
}

// HAKV is the reference store, the default system.
const HAKV = "hakv"

var systems = []SystemInfo{{
	Name: HAKV,
	Doc:  "the reference primary/standby key-value store (built in)",
	Options: []OptionInfo{
		{"replication", OptionEnum, []string{"sync", "semi-sync", "async"}, "sync", "when the primary acknowledges a write: once a majority, one standby, or only the primary has it"},
		{"election", OptionEnum, []string{"quorum", "unilateral"}, "quorum", "whether a standby needs a majority to become primary (unilateral allows split brain)"},
		{"failover_timeout", OptionDuration, nil, "2s", "heartbeat silence after which a standby starts a failover"},
		{"heartbeat", OptionDuration, nil, "200ms", "interval of the primary's heartbeats"},
		{"fsync", OptionEnum, []string{"always", "never"}, "always", "whether the write-ahead log is fsynced before acknowledging"},
		{"stale_reads", OptionBool, nil, "false", "whether standbys answer reads from their own copy"},
		{"ship_delay", OptionDuration, nil, "0s", "async only: ship each entry to the standbys once it is this old (a delayed standby)"},
	},
}}

// Systems lists the systems the schema knows. A cluster.system that is a path
// to a .yaml system definition is accepted too; its options are not checked
// here.
func Systems() []SystemInfo { return slices.Clone(systems) }

func systemInfo(name string) (SystemInfo, bool) {
	for _, s := range systems {
		if s.Name == name {
			return s, true
		}
	}
	return SystemInfo{}, false
}

// IsSystemPath reports whether a cluster.system value names a user-defined
// system file rather than a known system.
func IsSystemPath(system string) bool {
	ext := filepath.Ext(system)
	return strings.ContainsAny(system, `/\`) || ext == ".yaml" || ext == ".yml"
}

func systemNames() string {
	names := make([]string, len(systems))
	for i, s := range systems {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// option returns the named option, if the system has it.
func (s SystemInfo) option(name string) (OptionInfo, bool) {
	for _, o := range s.Options {
		if o.Name == name {
			return o, true
		}
	}
	return OptionInfo{}, false
}

func (s SystemInfo) optionNames() string {
	names := make([]string, len(s.Options))
	for i, o := range s.Options {
		names[i] = o.Name
	}
	return strings.Join(names, ", ")
}

// check returns a message when value is not valid for the option.
func (o OptionInfo) check(value string) string {
	switch o.Kind {
	case OptionEnum:
		if !slices.Contains(o.Values, value) {
			return fmt.Sprintf("invalid value %q (want %s)", value, orList(o.Values))
		}
	case OptionDuration:
		d, err := ParseDuration(value)
		switch {
		case err != nil:
			return err.Error()
		case d == 0 && o.Default != "0s":
			// Zero is meaningful only where it is the default (no delay).
			return fmt.Sprintf("invalid value %q (must be more than 0s)", value)
		}
	case OptionBool:
		if value != "true" && value != "false" {
			return fmt.Sprintf("invalid value %q (want true or false)", value)
		}
	}
	return ""
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
