package kind

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is the one duration type of fault parameters and scenario files
// (package scenarios aliases it): a time.Duration
// written the Go way ("10s", "1m30s", "250ms"). A bare number is rejected
// because "10" is ambiguous (seconds? milliseconds?) and such a mistake would
// silently change what a fault does. Durations in a scenario are never
// negative.
type Duration time.Duration

// ParseDuration parses a scenario duration, with the same rules and messages
// as in a file, so that command-line flags can share them.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, errors.New("duration needs a unit, like 10s")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return Duration(d), nil
}

// Std returns the value as a time.Duration for the packages that act on it.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats like time.Duration ("1m30s"), which ParseDuration reads back
// exactly.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML reads a duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration like 10s, got %s", Describe(n))
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes the String form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalText makes Duration usable in JSON and flag parsing.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes the String form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// BitRate is a network bandwidth in bits per second, written with tc's bit
// units: "500kbit", "1mbit", "1.5gbit" (powers of 1000). Byte units are not
// accepted because tc's "mbps" means megabytes, a classic factor-8 mistake.
type BitRate int64

var bitUnits = []struct {
	suffix string
	factor float64
}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}

// ParseBitRate parses a bandwidth like "1mbit".
func ParseBitRate(s string) (BitRate, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, u := range bitUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || f < 0 {
				break
			}
			return BitRate(f*u.factor + 0.5), nil
		}
	}
	return 0, fmt.Errorf("invalid bandwidth %q (want a number with bit, kbit, mbit or gbit, like 1mbit)", s)
}

// String formats with the largest unit that keeps the number whole.
func (b BitRate) String() string {
	for _, u := range bitUnits {
		if f := int64(u.factor); b != 0 && int64(b)%f == 0 {
			return strconv.FormatInt(int64(b)/f, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "bit"
}

// UnmarshalYAML reads a bandwidth scalar.
func (b *BitRate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a bandwidth like 1mbit, got %s", Describe(n))
	}
	v, err := ParseBitRate(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalYAML writes the String form.
func (b BitRate) MarshalYAML() (any, error) { return b.String(), nil }

// Offset is a signed duration, for a clock shifted into the past ("-30s")
// or the future ("2m").
type Offset time.Duration

// Std returns the value as a time.Duration.
func (o Offset) Std() time.Duration { return time.Duration(o) }

// UnmarshalYAML reads a signed duration scalar.
func (o *Offset) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want an offset like -30s or 2m, got %s", Describe(n))
	}
	v, err := ParseOffset(n.Value)
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// MarshalYAML writes the time.Duration form ("-30s").
func (o Offset) MarshalYAML() (any, error) { return time.Duration(o).String(), nil }

// MarshalText writes the String form, for the agent's JSON wire form.
func (b BitRate) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText reads a bandwidth like "1mbit".
func (b *BitRate) UnmarshalText(t []byte) error {
	v, err := ParseBitRate(string(t))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ParseOffset parses a signed duration like "-30s".
func ParseOffset(s string) (Offset, error) {
	neg := strings.HasPrefix(strings.TrimSpace(s), "-")
	d, err := ParseDuration(strings.TrimPrefix(strings.TrimSpace(s), "-"))
	if err != nil {
		return 0, err
	}
	if neg {
		return Offset(-d), nil
	}
	return Offset(d), nil
}

// MarshalText writes the time.Duration form ("-30s").
func (o Offset) MarshalText() ([]byte, error) { return []byte(time.Duration(o).String()), nil }

// UnmarshalText reads a signed duration.
func (o *Offset) UnmarshalText(t []byte) error {
	v, err := ParseOffset(string(t))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Describe names a YAML node's shape for an error message ("a list", "a
// mapping", a scalar quoted). The scenario decoder uses it too, so both
// speak of a file's shapes alike.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}
