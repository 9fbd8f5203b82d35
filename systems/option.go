package systems

import (
	"fmt"
	"slices"
	"strings"
)

// OptionKind says what values an option takes. The scenario schema checks a
// value against its option's kind, with the file and line; a system adds its
// rules across options with OptionChecker.
type OptionKind string

// Option kinds.
const (
	OptionEnum     OptionKind = "enum"     // one of Values
	OptionDuration OptionKind = "duration" // a duration like 2s; zero only where the default is 0s
	OptionBool     OptionKind = "bool"     // true or false
	OptionInt      OptionKind = "int"      // a whole number, at least Min
)

// Option is one setting of a system, as a scenario's cluster.options names
// it. A system declares its options once: the scenario schema is built from
// the declaration (so `hadrill validate` and `hadrill list` know them), and
// the system's container set-up turns them into its own flags or files.
type Option struct {
	Name    string
	Kind    OptionKind
	Values  []string // for OptionEnum
	Default string
	Doc     string
	// Flag is the command-line flag the value is passed as (--name=value),
	// for systems that take their options as flags (see Flags).
	Flag string
	// Min is the smallest value of an OptionInt.
	Min int64
}

// Find returns the declared option with the given name.
func Find(declared []Option, name string) (Option, bool) {
	i := slices.IndexFunc(declared, func(o Option) bool { return o.Name == name })
	if i < 0 {
		return Option{}, false
	}
	return declared[i], true
}

// Names lists the declared options' names, in declaration order.
func Names(declared []Option) []string {
	names := make([]string, len(declared))
	for i, o := range declared {
		names[i] = o.Name
	}
	return names
}

// Value returns the option's value in opts, or its declared default.
func Value(declared []Option, opts map[string]string, name string) string {
	if v, ok := opts[name]; ok {
		return v
	}
	o, _ := Find(declared, name)
	return o.Default
}

// Flags turns options into command-line flags (Option.Flag=value) in name
// order. The schema has checked every value already; an undeclared option
// here is a bug in the caller, and is refused rather than dropped.
func Flags(declared []Option, opts map[string]string) ([]string, error) {
	names := make([]string, 0, len(opts))
	for k := range opts {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]string, 0, len(names))
	for _, k := range names {
		o, ok := Find(declared, k)
		if !ok {
			return nil, fmt.Errorf("check option %q: unknown (known: %s)", k, strings.Join(Names(declared), ", "))
		}
		out = append(out, o.Flag+"="+opts[k])
	}
	return out, nil
}
