package scenarios

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hadrill/hadrill/faults/kind"
)

// Duration is the one duration type of scenario files (kind.Duration): a
// time.Duration written the Go way ("10s"), never a bare number and never
// negative.
type Duration = kind.Duration

// BitRate is a network bandwidth in bits per second ("1mbit"; kind.BitRate).
type BitRate = kind.BitRate

// Offset is a signed duration ("-30s"; kind.Offset).
type Offset = kind.Offset

// ParseDuration parses a scenario duration, with the same rules and messages
// as in a file, so that command-line flags can share them.
func ParseDuration(s string) (Duration, error) { return kind.ParseDuration(s) }

// Rate is an operation rate in operations per second. Files write it as
// "400/s", "400" (per second) or "6000/m" (per minute); it is written back as
// "N/s".
type Rate float64

// ParseRate parses a rate with the rules of scenario files.
func ParseRate(s string) (Rate, error) {
	num, per := strings.TrimSpace(s), 1.0
	if n, unit, ok := strings.Cut(num, "/"); ok {
		switch strings.TrimSpace(unit) {
		case "s":
		case "m":
			per = 60
		default:
			return 0, fmt.Errorf("invalid rate %q (want operations per second, like 400/s)", s)
		}
		num = strings.TrimSpace(n)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid rate %q (want operations per second, like 400/s)", s)
	}
	return Rate(f / per), nil
}

// PerSecond returns operations per second.
func (r Rate) PerSecond() float64 { return float64(r) }

// String formats as "N/s", which ParseRate reads back exactly.
func (r Rate) String() string { return strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s" }

// UnmarshalYAML reads a rate scalar.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a rate like 400/s, got %s", describe(n))
	}
	v, err := ParseRate(n.Value)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalYAML writes the String form.
func (r Rate) MarshalYAML() (any, error) { return r.String(), nil }
