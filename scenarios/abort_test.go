package scenarios

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// abortBase is a valid scenario that each case extends with an abort block.
const abortBase = "duration: 30s\nfaults:\n  - {kind: kill, target: all, at: 3s}\n"

func TestAbortConditionsParseWithDefaults(t *testing.T) {
	s, err := Parse([]byte(abortBase+`abort:
  no_primary: 60s
  availability: {below: 0.5, window: 10s}
  probe: {http: "http://127.0.0.1:8080/health", failures: 2}
`), "abort.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := s.Abort
	if a == nil || *a.NoPrimary != sec(60) {
		t.Fatalf("abort = %+v", a)
	}
	if *a.Availability != (AbortAvailability{Below: 0.5, Window: sec(10)}) {
		t.Errorf("availability = %+v", *a.Availability)
	}
	// interval defaults to 5s, and the timeout to the interval.
	want := Probe{HTTP: "http://127.0.0.1:8080/health", Interval: sec(5), Timeout: sec(5), Failures: 2}
	if *a.Probe != want {
		t.Errorf("probe = %+v, want %+v", *a.Probe, want)
	}
	if got := a.Conditions(); !slices.Equal(got, []string{ConditionNoPrimary, ConditionAvailability, ConditionProbe}) {
		t.Errorf("conditions = %v", got)
	}
}

func TestAbortDumpLoadsBackIdentically(t *testing.T) {
	s, err := Parse([]byte(abortBase+"abort:\n  probe: {command: \"curl -fsS localhost\", interval: 1s}\n"), "abort.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Dump()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b, "abort.yaml")
	if err != nil {
		t.Fatalf("load the dump back: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(back.Abort, s.Abort) {
		t.Errorf("abort after a round trip = %+v, want %+v", back.Abort, s.Abort)
	}
}

func TestNoAbortBlockMeansNoConditions(t *testing.T) {
	s, err := Parse([]byte(abortBase), "abort.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Abort != nil || s.Abort.Conditions() != nil {
		t.Errorf("abort = %+v, want none", s.Abort)
	}
}

func TestAbortRejectsBadConditionsWithLineAndField(t *testing.T) {
	cases := []struct {
		name, abort string
		want        []string
	}{
		{"empty", "abort: {}\n", []string{
			"a.yaml:4: abort: names no condition (want no_primary, availability or probe)"}},
		{"not a mapping", "abort: 60s\n", []string{
			`a.yaml:4: abort: want a mapping, got "60s"`}},
		{"unknown condition", "abort: {no_leader: 10s}\n", []string{
			"a.yaml:4: abort.no_leader: unknown field"}},
		{"no_primary bounds", "abort:\n  no_primary: 500ms\n", []string{
			"a.yaml:5: abort.no_primary: must be at least 1s and at most 24h0m0s, got 500ms"}},
		{"no_primary without unit", "abort:\n  no_primary: 60\n", []string{
			"a.yaml:5: abort.no_primary: duration needs a unit, like 10s"}},
		{"availability required", "abort:\n  availability: {window: 10s}\n", []string{
			"a.yaml:5: abort.availability.below: required"}},
		{"availability bounds", "abort:\n  availability:\n    below: 1.5\n    window: 100h\n", []string{
			"a.yaml:6: abort.availability.below: must be more than 0 and at most 1, got 1.5",
			"a.yaml:7: abort.availability.window: must be at least 1s and at most 24h0m0s, got 100h0m0s"}},
		{"availability zero", "abort:\n  availability: {below: 0, window: 10s}\n", []string{
			"a.yaml:5: abort.availability.below: must be more than 0 and at most 1, got 0"}},
		{"window longer than the run", "abort:\n  availability: {below: 0.5, window: 1m}\n", []string{
			"a.yaml:5: abort.availability.window: is longer than the run (duration 30s): it would never fill"}},
		{"probe without a check", "abort:\n  probe: {failures: 2}\n", []string{
			"a.yaml:5: abort.probe: want http (a URL to GET) or command (run on this host)"}},
		{"probe with both", "abort:\n  probe: {http: \"http://x\", command: \"true\"}\n", []string{
			"a.yaml:5: abort.probe: give http or command, not both"}},
		{"probe URL", "abort:\n  probe:\n    http: \"ftp://x/y\"\n", []string{
			`a.yaml:6: abort.probe.http: want an http:// or https:// URL, got "ftp://x/y"`}},
		{"probe URL without host", "abort:\n  probe:\n    http: \"http:///health\"\n", []string{
			`a.yaml:6: abort.probe.http: URL "http:///health" names no host`}},
		{"probe blank command", "abort:\n  probe:\n    command: \"  \"\n", []string{
			"a.yaml:6: abort.probe.command: empty command"}},
		{"probe timing", "abort:\n  probe:\n    command: \"true\"\n    interval: 2s\n    timeout: 3s\n    failures: 0\n", []string{
			"a.yaml:8: abort.probe.timeout: must be more than 0s and at most the interval (2s), got 3s",
			"a.yaml:9: abort.probe.failures: must be at least 1 and at most 1000, got 0"}},
		{"probe interval", "abort:\n  probe: {command: \"true\", interval: 10ms, failures: 5000}\n", []string{
			"a.yaml:5: abort.probe.interval: must be at least 100ms and at most 1h0m0s, got 10ms",
			"a.yaml:5: abort.probe.failures: must be at least 1 and at most 1000, got 5000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(abortBase+c.abort), "a.yaml")
			if err == nil {
				t.Fatal("Parse accepted the scenario")
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, c.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestBuiltinsAbortWithoutAPrimaryForAMinute(t *testing.T) {
	for _, name := range Builtins() {
		s, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if s.Abort == nil || s.Abort.NoPrimary == nil || *s.Abort.NoPrimary != sec(60) {
			t.Errorf("%s: abort = %+v, want {no_primary: 60s}", name, s.Abort)
		}
	}
}
