package scenarios

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hadrill/hadrill/cluster"
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

// OptionKind says how an option's value is checked (cluster.OptionKind).
type OptionKind = cluster.OptionKind

// Option kinds.
const (
	OptionEnum     = cluster.OptionEnum
	OptionDuration = cluster.OptionDuration
	OptionBool     = cluster.OptionBool
)

// OptionInfo describes one cluster option of a system. The system declares
// it (cluster.Option), so the schema and the container set-up cannot
// disagree; options are kept as strings in the scenario (Cluster.Options)
// because each system maps them to its own flags or config.
type OptionInfo = cluster.Option

// SystemInfo describes a system under test that the schema knows, so that its
// options are checked before anything starts.
type SystemInfo struct {
	Name    string
	Doc     string
	Options []OptionInfo
	// DynamicallyLinked: the server's process is a dynamically linked
	// program, so faults that preload a library into it (clock, through
	// libfaketime) can reach it. hakv and Debian's etcd are static.
	DynamicallyLinked bool
}

// HAKV is the reference store, the default system.
const HAKV = "hakv"

var systems = []SystemInfo{{
	Name:    HAKV,
	Doc:     "the reference primary/standby key-value store (built in)",
	Options: cluster.HAKV{}.Options(),
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

// checkOption returns a message when value is not valid for the option,
// in the schema's terms (durations as ParseDuration reads them).
func checkOption(o OptionInfo, value string) string {
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
