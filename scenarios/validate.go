package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/systems/registry"
)

// The validator checks what the types alone cannot: ranges, references to
// nodes, parameters per fault kind, and windows inside the run. It runs after
// decoding, on the same decoder, so its errors carry the lines where the
// fields were written (or, for a field left out, the line of the nearest
// enclosing one). A field whose value was already rejected is not checked
// again, so one mistake gives one message.
type validator struct {
	*decoder
	s *Scenario
}

func validate(d *decoder, s *Scenario) {
	v := &validator{decoder: d, s: s}
	v.checkTop()
	v.checkCluster()
	v.checkWorkload()
	for i := range s.Faults {
		v.checkFault(i)
	}
	v.checkNemesis()
	v.checkTargets()
	v.checkAbort()
}

// at returns where path, or the nearest enclosing field, was written.
func (v *validator) at(path string) position {
	for {
		if p, ok := v.pos[path]; ok {
			return p
		}
		if path == "" {
			return position{file: v.file}
		}
		path = path[:max(strings.LastIndexAny(path, ".["), 0)]
	}
}

func (v *validator) errorf(path, format string, args ...any) {
	if !v.bad[path] {
		v.add(v.at(path), path, fmt.Sprintf(format, args...))
	}
}

// runKnown reports whether the run's duration is usable for window checks.
func (v *validator) runKnown() bool { return v.has("duration") && v.s.Duration > 0 }

// nodesKnown reports whether the node count is usable for target checks.
func (v *validator) nodesKnown() bool { return !v.bad["cluster.nodes"] && v.s.Cluster.Nodes >= 1 }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

func (v *validator) checkTop() {
	if !nameRE.MatchString(v.s.Name) {
		v.errorf("name", "invalid name %q (letters, digits, '.', '_' and '-' only: it names the results folder)", v.s.Name)
	}
	if v.has("duration") && v.s.Duration <= 0 {
		v.errorf("duration", "must be more than 0s")
	}
	if v.s.Duration.Std() > MaxDuration {
		v.errorf("duration", "must be at most %s, got %s (a longer soak is a series of runs)", Duration(MaxDuration), v.s.Duration)
	}
	if len(v.s.Faults) > MaxFaults {
		v.errorf("faults", "at most %d faults, got %d (a nemesis block draws a long schedule)", MaxFaults, len(v.s.Faults))
	}
}

func (v *validator) checkCluster() {
	c := v.s.Cluster
	sys, known := system(c.System)
	if !known {
		v.errorf("cluster.system", "unknown system %q (known: %s)", c.System, strings.Join(registry.Names(), ", "))
	}
	if c.Nodes < 1 {
		v.errorf("cluster.nodes", "must be at least 1")
	}
	if c.Nodes > MaxNodes {
		v.errorf("cluster.nodes", "must be at most %d, got %d", MaxNodes, c.Nodes)
	}
	if known && c.Nodes >= 1 && c.Nodes <= MaxNodes {
		b := sys.Nodes(c.Options)
		switch {
		case c.Nodes < b.Min:
			v.errorf("cluster.nodes", "must be at least %d for %s (%s), got %d", b.Min, sys.Name(), b.Why, c.Nodes)
		case b.Max > 0 && c.Nodes > b.Max:
			v.errorf("cluster.nodes", "must be at most %d for %s (%s), got %d", b.Max, sys.Name(), b.Why, c.Nodes)
		}
	}
	v.checkEngines()
	if !known {
		return
	}
	decl := sys.Options()
	names := make([]string, 0, len(c.Options))
	for name := range c.Options {
		names = append(names, name)
	}
	slices.Sort(names)
	bad := false
	for _, name := range names {
		p := "cluster.options." + name
		o, ok := systems.Find(decl, name)
		if !ok {
			v.errorf(p, "unknown option for %s (known: %s)", sys.Name(), strings.Join(systems.Names(decl), ", "))
			bad = true
		} else if msg := checkOption(o, c.Options[name]); msg != "" {
			v.errorf(p, "%s", msg)
			bad = true
		}
	}
	if oc, ok := sys.(systems.OptionChecker); ok && !bad {
		if name, msg := oc.CheckOptions(c.Options); name != "" {
			v.errorf("cluster.options."+name, "%s", msg)
		}
	}
}

// checkEngines checks cluster.engines and cluster.placement. Placement
// names data nodes only here; the runner checks auxiliary roles' nodes.
func (v *validator) checkEngines() {
	c := v.s.Cluster
	seen := map[string]bool{}
	for _, e := range c.Engines {
		if e == "" || seen[e] {
			v.errorf("cluster.engines", "engine %q is empty or listed twice", e)
		}
		seen[e] = true
	}
	if len(c.Placement.Map) > 0 && len(c.Engines) == 0 {
		v.errorf("cluster.placement", "a placement map needs cluster.engines")
		return
	}
	names := make([]string, 0, len(c.Placement.Map))
	for n := range c.Placement.Map {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if e := c.Placement.Map[n]; !seen[e] {
			v.errorf("cluster.placement."+n, "engine %q is not in cluster.engines (%s)", e, strings.Join(c.Engines, ", "))
		}
	}
}

func (v *validator) checkWorkload() {
	w := v.s.Workload
	if w.Kind != Register {
		v.errorf("workload.kind", "unknown workload %q (known: %s)", w.Kind, Register)
	}
	if w.LedgerRatio < 0 || w.LedgerRatio > 1 {
		v.errorf("workload.ledger_ratio", "must be between 0 and 1, got %g", w.LedgerRatio)
	}
	ratios := []struct {
		name  string
		value float64
	}{{"read_ratio", w.ReadRatio}, {"write_ratio", w.WriteRatio}, {"cas_ratio", w.CASRatio}}
	for _, r := range ratios {
		if r.value < 0 {
			v.errorf("workload."+r.name, "must not be negative, got %g", r.value)
		}
	}
	if w.ReadRatio == 0 && w.WriteRatio == 0 && w.CASRatio == 0 && w.LedgerRatio < 1 {
		v.errorf("workload", "read_ratio, write_ratio and cas_ratio are all 0")
	}
	if w.Clients < 1 {
		v.errorf("workload.clients", "must be at least 1")
	}
	if w.Keys < 1 {
		v.errorf("workload.keys", "must be at least 1")
	}
	if w.Rate <= 0 {
		v.errorf("workload.rate", "must be more than 0/s")
	}
	if w.Rate > MaxRate {
		v.errorf("workload.rate", "must be at most %s, got %s", Rate(MaxRate), w.Rate)
	}
	if w.Timeout <= 0 {
		v.errorf("workload.timeout", "must be more than 0s")
	}
}

func (v *validator) checkTargets() {
	t := v.s.Targets
	if t.Availability != nil && (*t.Availability < 0 || *t.Availability > 1) {
		v.errorf("targets.availability", "must be between 0 and 1, got %g", *t.Availability)
	}
	if t.RPO != nil && *t.RPO < 0 {
		v.errorf("targets.rpo", "must not be negative")
	}
	if t.SettleWindow <= 0 {
		v.errorf("targets.settle_window", "must be more than 0s")
	}
}
