package kind

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Param names a fault parameter, as written in files.
type Param string

// Fault parameters. ParamDuration and ParamRestartAfter are the fault's
// window and live on the fault itself; the others are fields of Params.
const (
	ParamDuration     Param = "duration"
	ParamRestartAfter Param = "restart_after"
	ParamPercent      Param = "percent"
	ParamDelay        Param = "delay"
	ParamJitter       Param = "jitter"
	ParamRate         Param = "rate"
	ParamGrace        Param = "grace"
	ParamMiB          Param = "mib"
	ParamOffset       Param = "offset"
	ParamClockRate    Param = "clock_rate"
)

// Params are the kind-specific parameters of one fault, typed, as the
// scenario file writes them (yaml tags), as the runner passes them to an
// injector, and as the node agent receives them (json tags; agent.Params
// embeds this struct). A zero value means "not given". Every field is
// declared in ParamDecls under the name of its tags; which kind takes which
// is in the kind's Decl.
type Params struct {
	// Percent is a share (0 < percent ≤ 100): of packets for loss, corrupt,
	// duplicate and reorder; of the node's CPU for cpu; and for disk-full
	// the use of the disk at which it counts as full.
	Percent float64 `yaml:"percent,omitempty" json:"percent,omitempty"`
	// Delay is added to each packet (delay), held back (reorder), or added
	// to each I/O operation (disk-slow).
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	// Jitter is the random spread around Delay (delay).
	Jitter Duration `yaml:"jitter,omitempty" json:"jitter,omitempty"`
	// Rate is the bandwidth limit (bandwidth), in bits per second.
	Rate BitRate `yaml:"rate,omitempty" json:"rate,omitempty"`
	// Grace is the time between SIGTERM and SIGKILL (stop).
	Grace Duration `yaml:"grace,omitempty" json:"grace,omitempty"`
	// MiB is how much memory a memory fault allocates and touches, or how
	// many MiB of new data a disk-full still takes.
	MiB int `yaml:"mib,omitempty" json:"mib,omitempty"`
	// Offset shifts the node's wall clock (clock); negative is the past.
	Offset Offset `yaml:"offset,omitempty" json:"offset,omitempty"`
	// ClockRate makes the node's clock run fast (> 1) or slow (< 1) (clock).
	ClockRate float64 `yaml:"clock_rate,omitempty" json:"clock_rate,omitempty"`
}

// Value is the type of a parameter's value, which says how files write it.
type Value string

// Parameter value types.
const (
	ValueDuration Value = "duration" // "10s", "250ms"
	ValueOffset   Value = "offset"   // a signed duration: "-30s", "2m"
	ValueBitRate  Value = "bitrate"  // "500kbit", "1mbit", "1gbit"
	ValueNumber   Value = "number"   // a decimal number
	ValueInteger  Value = "integer"  // a whole number
)

// Bounds limit a parameter's value. The zero value allows anything.
type Bounds struct {
	// Positive: the value must be more than 0.
	Positive bool
	// AtMost, when not 0, is the largest value allowed.
	AtMost float64
	// Not, when not 0, is a value that is refused (it would change nothing).
	Not float64
}

// ParamDecl declares one parameter: its type, bounds and meaning.
type ParamDecl struct {
	Name  Param
	Value Value
	// Window: the parameter is the fault's window (duration,
	// restart_after), a field of the fault rather than of Params; a
	// nemesis sets it for every fault itself.
	Window bool
	Bounds Bounds
	// Hint follows a bounds error, saying what to do instead.
	Hint string
	// Doc says what the parameter means, in one line.
	Doc string
}

// ParamDecls declares every parameter, in the order they are checked and
// listed.
var ParamDecls = []ParamDecl{
	{Name: ParamDuration, Value: ValueDuration, Window: true, Bounds: Bounds{Positive: true},
		Doc: "how long the fault lasts"},
	{Name: ParamRestartAfter, Value: ValueDuration, Window: true, Bounds: Bounds{Positive: true},
		Hint: "leave it out to keep the node down until the run ends",
		Doc:  "how long a killed, stopped or crashed node stays down; left out, until the run ends"},
	{Name: ParamPercent, Value: ValueNumber, Bounds: Bounds{Positive: true, AtMost: 100},
		Doc: "a share in percent: of packets, of the node's CPU, or the disk use at which the disk is full"},
	{Name: ParamDelay, Value: ValueDuration, Bounds: Bounds{Positive: true},
		Doc: "the latency added to each packet or I/O operation, or how long reorder holds a packet back"},
	{Name: ParamJitter, Value: ValueDuration,
		Doc: "the random spread around delay: each packet waits delay ± jitter"},
	{Name: ParamRate, Value: ValueBitRate, Bounds: Bounds{Positive: true},
		Doc: "the bandwidth limit in bits per second (bit, kbit, mbit, gbit)"},
	{Name: ParamGrace, Value: ValueDuration, Bounds: Bounds{Positive: true}, Hint: "use kill for no grace",
		Doc: "the time between SIGTERM and SIGKILL"},
	{Name: ParamMiB, Value: ValueInteger, Bounds: Bounds{Positive: true},
		Doc: "MiB of memory to take, or of new data the disk still takes before it is full"},
	{Name: ParamOffset, Value: ValueOffset,
		Doc: "how far the wall clock is shifted; negative is the past"},
	{Name: ParamClockRate, Value: ValueNumber, Bounds: Bounds{Positive: true, Not: 1},
		Doc: "how fast the clock runs from the fault's start: more than 1 is fast, less is slow"},
}

// LookupParam returns a parameter's declaration.
func LookupParam(p Param) (ParamDecl, bool) {
	for _, d := range ParamDecls {
		if d.Name == p {
			return d, true
		}
	}
	return ParamDecl{}, false
}

// Problem says why v (in the parameter's base unit: nanoseconds, bits per
// second, percent, MiB) is out of bounds, or "" when it is within them.
func (d ParamDecl) Problem(v float64) string {
	b := d.Bounds
	if !b.Positive && b.AtMost == 0 && b.Not == 0 {
		return ""
	}
	if (!b.Positive || v > 0) && (b.AtMost == 0 || v <= b.AtMost) && (b.Not == 0 || v != b.Not) {
		return ""
	}
	msg := "must be more than " + d.zero()
	if b.AtMost != 0 {
		msg += " and at most " + strconv.FormatFloat(b.AtMost, 'g', -1, 64)
	}
	if b.Not != 0 {
		msg += " and not " + strconv.FormatFloat(b.Not, 'g', -1, 64)
	}
	switch d.Value {
	case ValueNumber:
		msg += ", got " + strconv.FormatFloat(v, 'g', -1, 64)
	case ValueInteger:
		msg += ", got " + strconv.FormatInt(int64(v), 10)
	}
	if d.Hint != "" {
		msg += " (" + d.Hint + ")"
	}
	return msg
}

// zero is 0 written in the parameter's unit.
func (d ParamDecl) zero() string {
	switch d.Value {
	case ValueDuration, ValueOffset:
		return "0s"
	case ValueBitRate:
		return "0bit"
	}
	return "0"
}

// field returns the Params field that holds p, found by its yaml tag.
func (p *Params) field(name Param) (reflect.Value, bool) {
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if Param(tag) == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// Get returns the value of a parameter in its base unit; ok is false for a
// parameter that is not a field of Params (a window parameter).
func (p Params) Get(name Param) (float64, bool) {
	f, ok := p.field(name)
	if !ok {
		return 0, false
	}
	switch f.Kind() {
	case reflect.Float32, reflect.Float64:
		return f.Float(), true
	default:
		return float64(f.Int()), true
	}
}

// SetText sets a parameter from its written form, as in a file ("10s").
func (p *Params) SetText(name Param, text string) error {
	f, ok := p.field(name)
	if !ok {
		return fmt.Errorf("set %s: not a parameter field", name)
	}
	if u, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(text))
	}
	switch f.Kind() {
	case reflect.Float64:
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
		f.SetFloat(v)
	default:
		v, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
		f.SetInt(v)
	}
	return nil
}

// For returns the parameters a fault of kind n uses: those the kind does
// not take are cleared, so a nemesis's shared parameters do not travel to
// kinds they mean nothing to.
func (p Params) For(n Name) Params {
	d, _ := Lookup(n)
	out := p
	for _, pd := range ParamDecls {
		if f, ok := out.field(pd.Name); ok && !d.Takes(pd.Name) {
			f.SetZero()
		}
	}
	return out
}

// Default returns the default value of parameter p for the kind, as a file
// writes it, and whether there is one.
func (d Decl) Default(p Param) (string, bool) {
	v, ok := d.Defaults[p]
	return v, ok
}
