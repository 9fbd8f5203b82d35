package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/systems/registry"
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

// system returns the registered system of the given name.
func system(name string) (systems.System, bool) { return registry.Lookup(name) }

// checkOption returns a message when value is not valid for the option,
// in the schema's terms (durations as ParseDuration reads them).
func checkOption(o systems.Option, value string) string {
	switch o.Kind {
	case systems.OptionEnum:
		if !slices.Contains(o.Values, value) {
			return fmt.Sprintf("invalid value %q (want %s)", value, orList(o.Values))
		}
	case systems.OptionDuration:
		d, err := ParseDuration(value)
		switch {
		case err != nil:
			return err.Error()
		case d == 0 && o.Default != "0s":
			// Zero is meaningful only where it is the default (no delay).
			return fmt.Sprintf("invalid value %q (must be more than 0s)", value)
		}
	case systems.OptionInt:
		n, err := strconv.ParseInt(value, 10, 64)
		switch {
		case err != nil:
			return fmt.Sprintf("invalid value %q (want a whole number)", value)
		case n < o.Min:
			return fmt.Sprintf("invalid value %q (must be at least %d)", value, o.Min)
		}
	case systems.OptionBool:
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

// systemRoles are the system's auxiliary roles under the given options.
func systemRoles(sys systems.System, opts Options) []cluster.Role {
	r, ok := sys.(cluster.Roler)
	if !ok {
		return nil
	}
	return r.Roles(opts)
}
