package scenarios

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The abort conditions, named as a scenario file writes them under abort:.
// A tripped condition is recorded under this name in run.json and
// verdict.json, so a reader can look it up in the scenario.
const (
	ConditionNoPrimary    = "no_primary"
	ConditionAvailability = "availability"
	ConditionProbe        = "probe"
)

// Abort holds the guard conditions checked while the load runs. When one
// trips, the runner starts no further fault, heals everything, keeps the
// history, checks what it has, and gives the verdict "aborted", so that a
// cluster that is broken beyond what the drill set out to test fails fast
// instead of running out the clock (as AWS FIS stop conditions and Litmus
// probes do). Each condition left out is not checked.
type Abort struct {
	// NoPrimary trips when no node has claimed the primary role for this
	// long, as the system's own primary discovery answers (the samples of
	// roles.jsonl). Systems without a fixed primary never trip it.
	NoPrimary *Duration `yaml:"no_primary,omitempty"`
	// Availability trips when the served share of the operations that
	// completed in the last Window falls below Below.
	Availability *AbortAvailability `yaml:"availability,omitempty"`
	// Probe trips when a check of the user's fails Failures times in a row.
	Probe *Probe `yaml:"probe,omitempty"`
}

// AbortAvailability is the availability abort condition: served operations
// ÷ completed operations over a sliding window, with "served" as the
// availability check defines it (history.Op.Served).
type AbortAvailability struct {
	// Below is the level under which the drill aborts, more than 0 and at
	// most 1. Required.
	Below float64 `yaml:"below" hadrill:"required"`
	// Window is the sliding window's length; it is judged only once a
	// whole window of the load has passed. Required.
	Window Duration `yaml:"window" hadrill:"required"`
}

// Probe is a user's check, run from the host hadrill runs on: an HTTP GET
// that must answer 2xx, or a shell command that must exit 0. Exactly one of
// HTTP and Command is given.
type Probe struct {
	// HTTP is the URL to GET (http or https).
	HTTP string `yaml:"http,omitempty"`
	// Command is run with /bin/sh -c on the host.
	Command string `yaml:"command,omitempty"`
	// Interval is the time from one probe's start to the next. Default 5s.
	Interval Duration `yaml:"interval"`
	// Timeout bounds one probe; running out of it is a failure. At most
	// Interval. Default: Interval.
	Timeout Duration `yaml:"timeout"`
	// Failures is how many failures in a row trip the abort. Default 3.
	Failures int `yaml:"failures"`
}

// Describe names the probe for messages: "GET <url>" or "command <cmd>".
func (p Probe) Describe() string {
	if p.HTTP != "" {
		return "GET " + p.HTTP
	}
	return fmt.Sprintf("command %q", p.Command)
}

func (p *Probe) setDefaults() {
	*p = Probe{Interval: Duration(5 * time.Second), Failures: 3}
}

// Conditions names the conditions that are set, in schema order.
func (a *Abort) Conditions() []string {
	var out []string
	if a == nil {
		return nil
	}
	if a.NoPrimary != nil {
		out = append(out, ConditionNoPrimary)
	}
	if a.Availability != nil {
		out = append(out, ConditionAvailability)
	}
	if a.Probe != nil {
		out = append(out, ConditionProbe)
	}
	return out
}

// fillDefaults fills the defaults that depend on other fields: a probe's
// timeout is its interval unless the file says otherwise.
func (a *Abort) fillDefaults() {
	if a != nil && a.Probe != nil && a.Probe.Timeout == 0 {
		a.Probe.Timeout = a.Probe.Interval
	}
}

// Bounds of the abort conditions. The lower ones keep a condition above
// what the runner can observe (roles are sampled about once a second), the
// upper ones reject values that are surely typing mistakes.
const (
	abortMinWait       = Duration(time.Second)
	abortMaxWait       = Duration(24 * time.Hour)
	probeMinInterval   = Duration(100 * time.Millisecond)
	probeMaxInterval   = Duration(time.Hour)
	probeMaxFailures   = 1000
	abortConditionList = "no_primary, availability or probe"
)

// checkAbort checks the abort block: at least one condition, and each
// value within its bounds.
func (v *validator) checkAbort() {
	a := v.s.Abort
	if a == nil {
		return
	}
	if len(a.Conditions()) == 0 && !v.badUnder("abort") {
		v.errorf("abort", "names no condition (want %s)", abortConditionList)
	}
	if a.NoPrimary != nil {
		v.checkWait("abort.no_primary", *a.NoPrimary)
	}
	if av := a.Availability; av != nil {
		if v.has("abort.availability.below") && (av.Below <= 0 || av.Below > 1) {
			v.errorf("abort.availability.below", "must be more than 0 and at most 1, got %g", av.Below)
		}
		if v.has("abort.availability.window") && v.checkWait("abort.availability.window", av.Window) &&
			v.runKnown() && av.Window > v.s.Duration {
			v.errorf("abort.availability.window", "is longer than the run (duration %s): it would never fill", v.s.Duration)
		}
	}
	if a.Probe != nil {
		v.checkProbe(a.Probe)
	}
}

// badUnder reports whether path or a field under it was rejected: one
// mistake gives one message.
func (v *validator) badUnder(path string) bool {
	for p := range v.bad {
		if p == path || strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

// checkWait checks a condition's duration against the bounds and reports
// whether it is within them.
func (v *validator) checkWait(path string, d Duration) bool {
	if d < abortMinWait || d > abortMaxWait {
		v.errorf(path, "must be at least %s and at most %s, got %s", abortMinWait, abortMaxWait, d)
		return false
	}
	return true
}

func (v *validator) checkProbe(p *Probe) {
	const path = "abort.probe"
	switch http, cmd := v.has(path+".http"), v.has(path+".command"); {
	case http && cmd:
		v.errorf(path, "give http or command, not both")
	case !http && !cmd:
		v.errorf(path, "want http (a URL to GET) or command (run on this host)")
	case http:
		if msg := checkProbeURL(p.HTTP); msg != "" {
			v.errorf(path+".http", "%s", msg)
		}
	case strings.TrimSpace(p.Command) == "":
		v.errorf(path+".command", "empty command")
	}
	intervalOK := p.Interval >= probeMinInterval && p.Interval <= probeMaxInterval
	if !intervalOK {
		v.errorf(path+".interval", "must be at least %s and at most %s, got %s", probeMinInterval, probeMaxInterval, p.Interval)
	}
	if v.has(path+".timeout") && (p.Timeout <= 0 || intervalOK && p.Timeout > p.Interval) {
		v.errorf(path+".timeout", "must be more than 0s and at most the interval (%s), got %s", p.Interval, p.Timeout)
	}
	if p.Failures < 1 || p.Failures > probeMaxFailures {
		v.errorf(path+".failures", "must be at least 1 and at most %d, got %d", probeMaxFailures, p.Failures)
	}
}

// checkProbeURL says what is wrong with a probe's URL, "" when nothing.
func checkProbeURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Sprintf("invalid URL %q", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("want an http:// or https:// URL, got %q", raw)
	case u.Host == "":
		return fmt.Sprintf("URL %q names no host", raw)
	}
	return ""
}
