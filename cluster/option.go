package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OptionKind says what values an option takes.
type OptionKind string

// Option kinds.
const (
	OptionEnum     OptionKind = "enum"     // one of Values
	OptionDuration OptionKind = "duration" // a duration like 2s; zero only where the default is 0s
	OptionBool     OptionKind = "bool"     // true or false
)

// Option is one setting of a system, as a scenario's cluster.options names
// it. A system declares its options once: the scenario schema is built from
// the declaration (so `hadrill validate` and `hadrill list` know them), and
// the container set-up turns them into the system's own flags.
type Option struct {
	Name    string
	Kind    OptionKind
	Values  []string // for OptionEnum
	Default string
	Doc     string
	// Flag is the command-line flag the value is passed as (--name=value).
	Flag string
}

// Optioned is the optional capability of a System that takes options.
type Optioned interface {
	Options() []Option
}

// valid reports whether v is a value of the option. It guards the container
// set-up; the scenario schema has already told the user what is wrong, with
// the file and line, so this error only says what was refused.
func (o Option) valid(v string) error {
	ok := true
	switch o.Kind {
	case OptionEnum:
		ok = slices.Contains(o.Values, v)
	case OptionBool:
		_, err := strconv.ParseBool(v)
		ok = err == nil
	case OptionDuration:
		d, err := time.ParseDuration(v)
		ok = err == nil && d >= 0 && (d > 0 || o.Default == "0s")
	}
	if !ok {
		return fmt.Errorf("invalid value %q for option %s (%s)", v, o.Name, o.Doc)
	}
	return nil
}

// flags turns options into command-line flags in name order, refusing
// options the system does not declare.
func flags(declared []Option, opts map[string]string) ([]string, error) {
	names := make([]string, 0, len(opts))
	for k := range opts {
		names = append(names, k)
	}
	slices.Sort(names)
	var out []string
	for _, k := range names {
		i := slices.IndexFunc(declared, func(o Option) bool { return o.Name == k })
		if i < 0 {
			known := make([]string, len(declared))
			for j, o := range declared {
				known[j] = o.Name
			}
			return nil, fmt.Errorf("check option %q: unknown (known: %s)", k, strings.Join(known, ", "))
		}
		if err := declared[i].valid(opts[k]); err != nil {
			return nil, fmt.Errorf("check option %q: %w", k, err)
		}
		out = append(out, declared[i].Flag+"="+opts[k])
	}
	return out, nil
}
