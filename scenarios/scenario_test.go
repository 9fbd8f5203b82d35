package scenarios

import (
	"slices"
	"testing"
	"time"

	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/systems/registry"
	"github.com/hadrill/hadrill/workload"
)

func TestFaultWindow(t *testing.T) {
	run := 30 * time.Second
	cases := []struct {
		f          Fault
		start, end time.Duration
	}{
		{Fault{Kind: Pause, At: sec(10), Duration: sec(5)}, 10 * time.Second, 15 * time.Second},
		{Fault{Kind: Kill, At: sec(10), RestartAfter: sec(15)}, 10 * time.Second, 25 * time.Second},
		{Fault{Kind: Kill, At: sec(10)}, 10 * time.Second, run}, // down until the run ends
	}
	for _, tc := range cases {
		if s, e := tc.f.Window(run); s != tc.start || e != tc.end {
			t.Errorf("%+v: window %s..%s, want %s..%s", tc.f, s, e, tc.start, tc.end)
		}
	}
}

// TestDefaultWorkloadIsTheLoadGeneratorsDefault: the schema's defaults come
// from the one declaration in workload, not from a copy.
func TestDefaultWorkloadIsTheLoadGeneratorsDefault(t *testing.T) {
	w := Default().Workload
	if w.Mix() != workload.DefaultMix || w.Clients != workload.DefaultClients || w.Keys != workload.DefaultKeys ||
		w.Timeout.Std() != workload.DefaultOpTimeout || float64(w.Rate) != workload.DefaultRate {
		t.Errorf("default workload %+v differs from workload's defaults", w)
	}
}

func TestAgentKindsListsAgentFaultsOnce(t *testing.T) {
	s := Default()
	s.Faults = []Fault{{Kind: Kill}, {Kind: Partition}, {Kind: FaultKind("loss")}, {Kind: Partition}}
	s.Nemesis = &Nemesis{Kinds: []FaultKind{Pause, FaultKind("delay"), FaultKind("loss")}}
	want := []FaultKind{FaultKind("delay"), FaultKind("loss"), Partition}
	if got := s.AgentKinds(); !slices.Equal(got, want) {
		t.Errorf("AgentKinds = %v, want %v", got, want)
	}
	s.Faults, s.Nemesis = []Fault{{Kind: Kill}, {Kind: Stop}, {Kind: Pause}}, nil
	if got := s.AgentKinds(); len(got) != 0 {
		t.Errorf("container faults need no agent, got %v", got)
	}
}

func TestSelectorNode(t *testing.T) {
	cases := map[Selector]int{"n1": 1, "n12": 12, "n0": 0, "n01": 0, "n": 0, "primary": 0, "n-1": 0, "m1": 0}
	for s, want := range cases {
		k, ok := s.Node()
		if ok != (want > 0) || k != want && ok {
			t.Errorf("%q.Node() = %d, %v; want %d", s, k, ok, want)
		}
	}
	if NodeName(3) != "n3" {
		t.Errorf("NodeName(3) = %s", NodeName(3))
	}
}

func TestKnownListsForHadrillList(t *testing.T) {
	var container, agent []FaultKind
	for _, i := range FaultKinds() {
		if i.Doc == "" {
			t.Errorf("%s has no doc", i.Name)
		}
		if i.Level == Container {
			container = append(container, i.Name)
		} else if i.Level == Agent {
			agent = append(agent, i.Name)
		}
	}
	if !slices.Equal(container, []FaultKind{Kill, Stop, Pause}) || len(container)+len(agent) != len(FaultKinds()) {
		t.Errorf("container kinds %v, %d agent kinds", container, len(agent))
	}
	if len(Selectors()) != 7 || len(Workloads()) != 1 || Workloads()[0].Kind != Register {
		t.Errorf("selectors %v, workloads %v", Selectors(), Workloads())
	}
}

// TestSystemDefaultsAreValid checks every registered system's declared
// defaults against the schema's own checks: a default the schema would
// refuse is a bug in the system's declaration.
func TestSystemDefaultsAreValid(t *testing.T) {
	for _, sys := range registry.All() {
		for _, o := range sys.Options() {
			if msg := checkOption(o, o.Default); msg != "" {
				t.Errorf("%s: default of %s is invalid: %s", sys.Name(), o.Name, msg)
			}
		}
		if oc, ok := sys.(systems.OptionChecker); ok {
			if name, msg := oc.CheckOptions(map[string]string{}); name != "" {
				t.Errorf("%s: defaults break the rule on %s: %s", sys.Name(), name, msg)
			}
		}
	}
}

func TestFieldErrorFormat(t *testing.T) {
	cases := map[string]FieldError{
		"kill.yaml:7: faults[0].at: invalid duration \"10x\"": {File: "kill.yaml", Line: 7, Column: 30, Path: "faults[0].at", Msg: `invalid duration "10x"`},
		"kill.yaml: faults[0].at: required":                   {File: "kill.yaml", Path: "faults[0].at", Msg: "required"},
		"kill.yaml:3: did not find expected key":              {File: "kill.yaml", Line: 3, Msg: "did not find expected key"},
	}
	for want, e := range cases {
		if e.Error() != want {
			t.Errorf("Error() = %q, want %q", e.Error(), want)
		}
	}
}
