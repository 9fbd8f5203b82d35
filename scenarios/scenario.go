// Package scenarios holds the scenario schema: what a scenario file may say,
// how it is loaded strictly (every mistake named with file, line and field
// path), its defaults, its seeds, and the built-in scenarios embedded in the
// binary.
//
// A scenario is plain data. Other packages get time.Duration values from it
// (Duration.Std); the runner turns it into a cluster, a workload and a fault
// schedule.
package scenarios

import (
	"fmt"
	"slices"
	"time"

	"github.com/hadrill/hadrill/faults/kind"
	"github.com/hadrill/hadrill/systems/registry"
	"github.com/hadrill/hadrill/workload"
	"gopkg.in/yaml.v3"
)

// Scenario is one experiment: which cluster to build, what load to put on it,
// which faults to inject and when, and which targets the cluster must meet.
// The comment of each field gives its default, which Parse fills in so that
// the scenario as run (Dump) states everything that shaped the run.
type Scenario struct {
	// Name names the results folder. Default: the file name without its
	// extension. Letters, digits, '.', '_' and '-'.
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Seed drives every random choice (selectors, nemesis, operation mix).
	// Nil when the file gives none: the runner then calls EnsureSeed, and
	// --seed overrides it.
	Seed *int64 `yaml:"seed,omitempty"`
	// Duration is how long the workload runs and faults may be active.
	// Required.
	Duration Duration `yaml:"duration" hadrill:"required"`
	Cluster  Cluster  `yaml:"cluster"`
	Workload Workload `yaml:"workload"`
	// Faults is the fixed fault schedule.
	Faults []Fault `yaml:"faults,omitempty"`
	// Nemesis, when set, adds a seeded random fault schedule; it composes
	// with Faults.
	Nemesis *Nemesis `yaml:"nemesis,omitempty"`
	// Settle is how long to wait after the end of the run, with every fault
	// healed, before the final read phase. Default 5s.
	Settle  Duration `yaml:"settle"`
	Targets Targets  `yaml:"targets"`
	// Abort, when set, stops the drill early when a guard condition trips
	// (see Abort).
	Abort *Abort `yaml:"abort,omitempty"`

	// src is the YAML tree the scenario was decoded from and file its name:
	// Set edits the tree and decodes again, so overrides get the same checks
	// and the untouched fields keep their line numbers.
	src  *yaml.Node
	file string
}

// Cluster says which system to build and how.
type Cluster struct {
	// System is a known system (see Systems; default hakv) or a path to a
	// system definition (.yaml).
	System string `yaml:"system"`
	// Nodes is the number of nodes, named n1..nN. Default 3.
	Nodes int `yaml:"nodes"`
	// Image overrides the system's container image (pre-upgrade
	// validation: --set cluster.image=...). Default: the system's own.
	Image string `yaml:"image,omitempty"`
	// Options are system settings, checked against the system's OptionInfo.
	// Every option the file leaves out gets its default, so the scenario as
	// run records the full configuration.
	Options Options `yaml:"options,omitempty"`
	// Engines lists the Docker engines to spread the nodes over: "local"
	// (the engine hadrill uses by default), a docker context name, or a
	// unix:// or tcp:// endpoint. The first is the Swarm manager. Default:
	// none, one engine as before.
	Engines []string `yaml:"engines,omitempty"`
	// Placement says which engine each node runs on. Default spread.
	Placement Placement `yaml:"placement,omitempty"`
}

// Placement is "spread" (round robin over cluster.engines, in order) or a
// node → engine map; the nodes a map leaves out are spread.
type Placement struct {
	// Map is the explicit node → engine map; nil for spread.
	Map map[string]string
}

// UnmarshalYAML reads "spread" or a mapping of node names to engine names.
func (p *Placement) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value != "spread" {
			return fmt.Errorf("want spread or a node → engine map like {n1: local, n2: second}, got %q", n.Value)
		}
		p.Map = nil
		return nil
	case yaml.MappingNode:
		m := map[string]string{}
		if err := n.Decode(&m); err != nil {
			return fmt.Errorf("want a node → engine map like {n1: local, n2: second}: %w", err)
		}
		p.Map = m
		return nil
	}
	return fmt.Errorf("want spread or a node → engine map, got %s", describe(n))
}

// MarshalYAML writes "spread" or the map.
func (p Placement) MarshalYAML() (any, error) {
	if len(p.Map) == 0 {
		return "spread", nil
	}
	return p.Map, nil
}

// Workload says what load the clients put on the cluster.
type Workload struct {
	// Kind is the workload (see Workloads). Default register.
	Kind string `yaml:"kind"`
	// LedgerRatio is the share of all operations that are write-once ledger
	// writes, which measure RPO. Default: workload.DefaultMix.
	LedgerRatio float64 `yaml:"ledger_ratio"`
	// ReadRatio, WriteRatio and CASRatio weigh the other operations. They
	// are relative weights. Defaults: workload.DefaultMix.
	ReadRatio  float64 `yaml:"read_ratio"`
	WriteRatio float64 `yaml:"write_ratio"`
	CASRatio   float64 `yaml:"cas_ratio"`
	// Clients is the number of concurrent clients. Default 8.
	Clients int `yaml:"clients"`
	// Rate is the total target rate over all clients. Default 200/s.
	Rate Rate `yaml:"rate"`
	// Keys is the number of register keys. Default 16.
	Keys int `yaml:"keys"`
	// Timeout is the per-operation client timeout; an operation that runs
	// out of it is recorded as info (indeterminate). Default 1s.
	Timeout Duration `yaml:"timeout"`
}

// Mix is the workload's operation mix in the load generator's terms:
// ReadRatio, WriteRatio and CASRatio are relative weights, LedgerRatio a
// share of all operations, exactly as workload.Mix reads them.
func (w Workload) Mix() workload.Mix {
	return workload.Mix{Read: w.ReadRatio, Write: w.WriteRatio, CAS: w.CASRatio, Ledger: w.LedgerRatio}
}

// Fault is one scheduled fault: a kind, a target and a window.
type Fault struct {
	Kind   FaultKind `yaml:"kind" hadrill:"required"`
	Target Target    `yaml:"target" hadrill:"required"`
	// At is when the fault starts, from the start of the run. Required.
	At Duration `yaml:"at" hadrill:"required"`
	// Duration is how long the fault lasts (all kinds but kill, stop and
	// crash, which use RestartAfter).
	Duration Duration `yaml:"duration,omitempty"`
	// RestartAfter is how long a killed, stopped or crashed node stays
	// down. Zero (left out) keeps it down until the run ends.
	RestartAfter Duration `yaml:"restart_after,omitempty"`
	Params       `yaml:",inline"`
}

// Params are the kind-specific fault parameters, declared with their
// types, bounds and meaning in package kind; FaultKindInfo says which kind
// takes which.
type Params = kind.Params

// faultYAML has Fault's fields without its methods, for MarshalYAML.
type faultYAML Fault

// MarshalYAML writes a fault on one line, as people write them.
func (f Fault) MarshalYAML() (any, error) {
	var n yaml.Node
	err := n.Encode(faultYAML(f))
	n.Style = yaml.FlowStyle
	return &n, err
}

// Window returns when the fault starts and ends, given the run's duration. A
// node killed without restart_after stays down until the run ends.
func (f Fault) Window(run time.Duration) (start, end time.Duration) {
	start = f.At.Std()
	switch {
	case f.Duration > 0:
		return start, start + f.Duration.Std()
	case f.RestartAfter > 0:
		return start, start + f.RestartAfter.Std()
	}
	return start, run
}

// Nemesis describes a seeded random fault schedule. The faults package turns
// it into faults; the scenario only holds and checks it.
type Nemesis struct {
	// Kinds to choose from. Required.
	Kinds []FaultKind `yaml:"kinds,flow" hadrill:"required"`
	// Targets to choose from (selectors or node names; for a partition, the
	// nodes to isolate). Default [primary].
	Targets []Selector `yaml:"targets,flow"`
	// Interval is the time from one fault's start to the next. Default 10s.
	Interval Duration `yaml:"interval"`
	// Duration is how long each fault lasts; killed, stopped or crashed
	// nodes restart after it. At most Interval. Default 5s.
	Duration Duration `yaml:"duration"`
	// Start is the earliest time of the first fault. Default 5s. No fault
	// starts unless it can end before the run does.
	Start  Duration `yaml:"start"`
	Params `yaml:",inline"`
}

func (n *Nemesis) setDefaults() {
	*n = Nemesis{
		Targets:  []Selector{Primary},
		Interval: Duration(10 * time.Second),
		Duration: Duration(5 * time.Second),
		Start:    Duration(5 * time.Second),
	}
}

// Targets are what the cluster must achieve. A target left out is measured
// and reported but does not decide the verdict.
type Targets struct {
	// Linearizable requires the history to be linearizable. Default true;
	// false reports the check without enforcing it.
	Linearizable bool `yaml:"linearizable"`
	// RTO is the longest allowed recovery time per disruptive fault.
	RTO *Duration `yaml:"rto,omitempty"`
	// RPO is the most acknowledged ledger writes that may be lost.
	RPO *int `yaml:"rpo,omitempty"`
	// RPOWindow is the longest allowed window of lost acknowledged writes.
	RPOWindow *Duration `yaml:"rpo_window,omitempty"`
	// Availability is the least allowed fraction of ok operations, 0..1.
	Availability *float64 `yaml:"availability,omitempty"`
	// SettleWindow is how long a success run must last to end an outage
	// when RTO is measured (docs/DESIGN.md). Default 1s.
	SettleWindow Duration `yaml:"settle_window"`
}

// Default returns the scenario that an empty file would describe, apart from
// the required duration and the name. Parse decodes a file over it, so every
// field a file leaves out keeps the value here; cluster options and a stop
// fault's grace are filled after decoding because they depend on other
// fields.
func Default() *Scenario {
	return &Scenario{
		Cluster: Cluster{System: registry.Default, Nodes: 3},
		Workload: Workload{
			Kind:        Register,
			LedgerRatio: workload.DefaultMix.Ledger,
			ReadRatio:   workload.DefaultMix.Read,
			WriteRatio:  workload.DefaultMix.Write,
			CASRatio:    workload.DefaultMix.CAS,
			Clients:     workload.DefaultClients,
			Rate:        workload.DefaultRate,
			Keys:        workload.DefaultKeys,
			Timeout:     Duration(workload.DefaultOpTimeout),
		},
		Settle:  Duration(5 * time.Second),
		Targets: Targets{Linearizable: true, SettleWindow: Duration(time.Second)},
	}
}

// fillDerived fills the defaults that depend on other fields. It runs after
// validation, so that an explicit bad value is reported rather than replaced.
func (s *Scenario) fillDerived() {
	s.Abort.fillDefaults()
	if sys, ok := system(s.Cluster.System); ok {
		if s.Cluster.Options == nil {
			s.Cluster.Options = Options{}
		}
		for _, o := range sys.Options() {
			if _, set := s.Cluster.Options[o.Name]; !set {
				s.Cluster.Options[o.Name] = o.Default
			}
		}
	}
	for i := range s.Faults {
		f := &s.Faults[i]
		fillDefaults(&f.Params, f.Kind)
		f.Target = f.Target.ForKind(f.Kind)
	}
	if s.Nemesis != nil {
		for _, k := range s.Nemesis.Kinds {
			fillDefaults(&s.Nemesis.Params, k)
		}
	}
}

// fillDefaults gives the parameters the kind declares a default for, and
// that p leaves out, their default.
func fillDefaults(p *Params, k FaultKind) {
	d, _ := k.Info()
	for name, text := range d.Defaults {
		if v, ok := p.Get(name); ok && v == 0 {
			_ = p.SetText(name, text) // the declarations' defaults parse; kind's tests check it
		}
	}
}

// AgentKinds returns the fault kinds of the scenario (fixed faults and
// nemesis) that need the node agent, sorted and without repeats. A runner
// without the agent refuses a scenario for which this is not empty, and
// hadrill list shows it.
func (s *Scenario) AgentKinds() []FaultKind {
	var out []FaultKind
	add := func(k FaultKind) {
		if k.Level() == Agent && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for _, f := range s.Faults {
		add(f.Kind)
	}
	if s.Nemesis != nil {
		for _, k := range s.Nemesis.Kinds {
			add(k)
		}
	}
	slices.Sort(out)
	return out
}
