package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hadrill/hadrill/faults/kind"
	"github.com/hadrill/hadrill/systems"
)

func (v *validator) checkFault(i int) {
	f, p := v.s.Faults[i], fmt.Sprintf("faults[%d]", i)
	info, ok := f.Kind.Info()
	if !ok {
		if v.has(p + ".kind") {
			v.errorf(p+".kind", "unknown fault kind %q (known: %s)", f.Kind, kind.KnownList())
		}
		return
	}
	for _, pd := range kind.ParamDecls {
		name := pd.Name
		present := v.has(p + "." + string(name))
		switch {
		case present && !info.Takes(name):
			v.errorf(p+"."+string(name), "not a parameter of %s%s", f.Kind, paramHint(info, name))
		case !present && info.Requires(name):
			v.errorf(p+"."+string(name), "required for %s", f.Kind)
		}
	}
	window := map[kind.Param]Duration{ParamDuration: f.Duration, ParamRestartAfter: f.RestartAfter}
	for _, pd := range kind.ParamDecls {
		if n := p + "." + string(pd.Name); pd.Window && v.has(n) {
			if msg := pd.Problem(float64(window[pd.Name])); msg != "" {
				v.errorf(n, "%s", msg)
			}
		}
	}
	v.checkParams(p, f.Params)
	v.checkKindRules(p, info)
	v.checkWindow(p, f)
	if v.has(p+".target") && v.nodesKnown() {
		v.checkTarget(p+".target", f.Target, f.Kind)
	}
}

// paramHint points from a parameter a kind does not take to the one it does.
func paramHint(info FaultKindInfo, name kind.Param) string {
	switch {
	case name == ParamDuration && info.Takes(ParamRestartAfter):
		return " (use restart_after)"
	case name == ParamRestartAfter && info.Takes(ParamDuration):
		return " (use duration)"
	}
	return ""
}

// checkParams checks the values of the kind-specific parameters that were
// written under p against their declared bounds.
func (v *validator) checkParams(p string, pr Params) {
	for _, pd := range kind.ParamDecls {
		val, field := pr.Get(pd.Name)
		if n := p + "." + string(pd.Name); field && v.has(n) {
			if msg := pd.Problem(val); msg != "" {
				v.errorf(n, "%s", msg)
			}
		}
	}
}

// checkKindRules checks what a kind asks beyond its parameter list, as its
// declaration states it: at least one of some parameters, at most one of
// others, a server it can preload a library into.
func (v *validator) checkKindRules(p string, info FaultKindInfo) {
	given := func(ps []kind.Param) []kind.Param {
		var out []kind.Param
		for _, name := range ps {
			if v.has(p + "." + string(name)) {
				out = append(out, name)
			}
		}
		return out
	}
	if len(info.AnyOf) > 0 && len(given(info.AnyOf)) == 0 {
		v.errorf(p, "%s", info.AnyOfProblem())
	}
	if g := given(info.OneOf); len(g) > 1 {
		v.errorf(p+"."+string(g[len(g)-1]), "%s", info.OneOfProblem())
	}
	if info.Preloads != "" {
		if sys, ok := system(v.s.Cluster.System); ok {
			if st, static := sys.(systems.Static); static {
				v.errorf(p+".kind", "%s needs %s: %s", info.Name, info.Preloads, st.StaticBinary())
			}
		}
	}
}

// checkWindow requires the fault to start and end inside the run, so every
// fault is healed and measured before the final read.
func (v *validator) checkWindow(p string, f Fault) {
	if !v.runKnown() || !v.has(p+".at") || v.bad[p+".at"] {
		return
	}
	run := v.s.Duration
	if f.At >= run {
		v.errorf(p+".at", "starts at %s, when the run has ended (duration %s)", f.At, run)
		return
	}
	for name, length := range map[kind.Param]Duration{ParamDuration: f.Duration, ParamRestartAfter: f.RestartAfter} {
		n := p + "." + string(name)
		if v.has(n) && !v.bad[n] && f.At+length > run {
			v.errorf(n, "fault ends at %s, after the run ends at %s", f.At+length, run)
		}
	}
}

func (v *validator) checkTarget(path string, t Target, k FaultKind) {
	n := v.s.Cluster.Nodes
	if t.Role != "" {
		v.checkRole(path, t)
		return
	}
	if k.Sides() {
		v.checkPartition(path, t, n)
		return
	}
	if t.Isolate != "" || t.Groups != nil || t.From != nil || t.To != nil {
		v.errorf(path, "isolate, groups, from and to are for partitions; %s takes one target like primary", k)
		return
	}
	if msg := t.Selector.Problem(n); msg != "" {
		v.errorf(path, "%s", msg)
	}
}

// checkRole checks a role target against the system's roles, and its
// selector against the role's node count. A partition of a role's nodes
// isolates them from every other node.
func (v *validator) checkRole(path string, t Target) {
	sys, ok := system(v.s.Cluster.System)
	if !ok {
		return // the unknown system is reported already
	}
	var names []string
	for _, r := range systemRoles(sys, v.s.Cluster.Options) {
		names = append(names, r.Name)
		if r.Name != t.Role {
			continue
		}
		switch t.Selector {
		case Primary, Standby, Standbys:
			v.errorf(path+".select", "%s means a data node; role %s has no primary (want one, minority, majority or all)", t.Selector, t.Role)
		default:
			if msg := t.Selector.Problem(r.Count); msg != "" {
				v.errorf(path+".select", "%s", msg)
			}
		}
		return
	}
	if len(names) == 0 {
		v.errorf(path+".role", "%s has no roles besides its data nodes", sys.Name())
		return
	}
	v.errorf(path+".role", "unknown role %q for %s (known: %s)", t.Role, sys.Name(), strings.Join(names, ", "))
}

func (v *validator) checkPartition(path string, t Target, n int) {
	if n < 2 {
		v.errorf(path, "a partition needs at least 2 nodes, the cluster has 1")
		return
	}
	forms := 0
	for _, set := range []bool{t.Selector != "" || t.Isolate != "", t.Groups != nil, t.From != nil || t.To != nil} {
		if set {
			forms++
		}
	}
	switch {
	case forms == 0:
		v.errorf(path, "empty target (want a selector like primary, or one of isolate, groups, or from with to)")
	case forms > 1:
		v.errorf(path, "want only one of isolate, groups, or from with to")
	case t.Selector != "":
		v.checkIsolate(path, t.Selector, n)
	case t.Isolate != "":
		v.checkIsolate(path+".isolate", t.Isolate, n)
	case t.Groups != nil:
		v.checkGroups(path+".groups", t.Groups, n)
	default:
		v.checkOneWay(path, t, n)
	}
}

func (v *validator) checkIsolate(path string, s Selector, n int) {
	if msg := s.Problem(n); msg != "" {
		v.errorf(path, "%s", msg)
	} else if s == All {
		v.errorf(path, "isolating all nodes cuts nothing off")
	}
}

func (v *validator) checkGroups(path string, groups [][]string, n int) {
	if len(groups) < 2 {
		v.errorf(path, "want at least 2 groups, got %d", len(groups))
		return
	}
	seen := map[int]bool{}
	for i, g := range groups {
		gp := fmt.Sprintf("%s[%d]", path, i)
		if len(g) == 0 {
			v.errorf(gp, "empty group")
		}
		for j, name := range g {
			ep := fmt.Sprintf("%s[%d]", gp, j)
			k, ok := Selector(name).Node()
			switch {
			case !ok:
				v.errorf(ep, "groups hold node names like n1, got %q", name)
			case k > n:
				v.errorf(ep, "%s names no node (%s)", name, kind.ClusterNodes(n))
			case seen[k]:
				v.errorf(ep, "%s is in two groups", name)
			default:
				seen[k] = true
			}
		}
	}
	var missing []string
	for k := 1; k <= n; k++ {
		if !seen[k] {
			missing = append(missing, NodeName(k))
		}
	}
	if len(missing) == 1 {
		v.errorf(path, "%s is in no group", missing[0])
	} else if len(missing) > 1 {
		v.errorf(path, "%s are in no group", strings.Join(missing, ", "))
	}
}

func (v *validator) checkOneWay(path string, t Target, n int) {
	from := v.checkSide(path, "from", "to", t.From, n)
	v.checkSide(path, "to", "from", t.To, n)
	for j, s := range t.To {
		if k, ok := s.Node(); ok && from[k] {
			v.errorf(fmt.Sprintf("%s.to[%d]", path, j), "%s is in both from and to", s)
		}
	}
}

// checkSide checks one side of a one-way partition and returns the node
// numbers it names.
func (v *validator) checkSide(path, side, other string, list []Selector, n int) map[int]bool {
	p := path + "." + side
	switch {
	case list == nil:
		v.errorf(p, "required with %s", other)
	case len(list) == 0:
		v.errorf(p, "want at least one node")
	}
	nodes := map[int]bool{}
	for i, s := range list {
		if msg := s.Problem(n); msg != "" {
			v.errorf(fmt.Sprintf("%s[%d]", p, i), "%s", msg)
		} else if k, ok := s.Node(); ok {
			nodes[k] = true
		}
	}
	return nodes
}

func (v *validator) checkNemesis() {
	nm := v.s.Nemesis
	if nm == nil {
		return
	}
	if v.has("nemesis.kinds") && len(nm.Kinds) == 0 {
		v.errorf("nemesis.kinds", "want at least one kind")
	}
	infos := v.nemesisKinds(nm)
	if len(infos) == len(nm.Kinds) && len(infos) > 0 {
		v.checkNemesisParams(nm, infos)
	}
	v.checkParams("nemesis", nm.Params)
	if v.has("nemesis.targets") && len(nm.Targets) == 0 {
		v.errorf("nemesis.targets", "want at least one target")
	}
	if v.nodesKnown() {
		for i, s := range nm.Targets {
			v.checkIsolateOrHit(fmt.Sprintf("nemesis.targets[%d]", i), s, slices.ContainsFunc(nm.Kinds, FaultKind.Sides))
		}
	}
	v.checkNemesisTiming(nm)
}

// nemesisKinds returns the descriptions of the nemesis kinds that exist.
func (v *validator) nemesisKinds(nm *Nemesis) []FaultKindInfo {
	var infos []FaultKindInfo
	for i, k := range nm.Kinds {
		info, ok := k.Info()
		if !ok {
			v.errorf(fmt.Sprintf("nemesis.kinds[%d]", i), "unknown fault kind %q (known: %s)", k, kind.KnownList())
			continue
		}
		if k.Sides() && v.nodesKnown() && v.s.Cluster.Nodes < 2 {
			v.errorf(fmt.Sprintf("nemesis.kinds[%d]", i), "a partition needs at least 2 nodes, the cluster has 1")
		}
		infos = append(infos, info)
	}
	return infos
}

// checkNemesisParams requires the parameters some chosen kind needs and
// rejects those that no chosen kind takes. Every kind lasts the nemesis's
// duration, so duration and restart_after are not among them.
func (v *validator) checkNemesisParams(nm *Nemesis, infos []FaultKindInfo) {
	for _, pd := range kind.ParamDecls {
		name := pd.Name
		if pd.Window {
			continue
		}
		p := "nemesis." + string(name)
		takes := slices.ContainsFunc(infos, func(i FaultKindInfo) bool { return i.Takes(name) })
		if v.has(p) && !takes {
			v.errorf(p, "not a parameter of %s", orList(kindStrings(nm.Kinds)))
		}
		for _, i := range infos {
			if !v.has(p) && i.Requires(name) {
				v.errorf(p, "required for %s", i.Name)
				break
			}
		}
	}
}

func kindStrings(kinds []FaultKind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

func (v *validator) checkIsolateOrHit(path string, s Selector, partition bool) {
	n := v.s.Cluster.Nodes
	if msg := s.Problem(n); msg != "" {
		v.errorf(path, "%s", msg)
	} else if partition && s == All {
		v.errorf(path, "isolating all nodes cuts nothing off (nemesis kinds include partition)")
	}
}

func (v *validator) checkNemesisTiming(nm *Nemesis) {
	if nm.Interval <= 0 {
		v.errorf("nemesis.interval", "must be more than 0s")
	}
	if nm.Duration <= 0 {
		v.errorf("nemesis.duration", "must be more than 0s")
	} else if nm.Interval > 0 && nm.Duration > nm.Interval {
		v.errorf("nemesis.duration", "must be at most interval (%s), or faults would overlap", nm.Interval)
	}
	if v.runKnown() && nm.Duration > 0 && nm.Start+nm.Duration > v.s.Duration {
		v.errorf("nemesis.start", "no fault fits: start %s + duration %s ends after the run ends at %s", nm.Start, nm.Duration, v.s.Duration)
	}
}
