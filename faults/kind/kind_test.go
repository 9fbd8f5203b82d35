package kind

import (
	"reflect"
	"strings"
	"testing"
)

// TestDeclarationsAreComplete: every kind says what it does and how, takes
// only declared parameters, and its defaults and rules name parameters it
// takes; a default parses as its parameter's value.
func TestDeclarationsAreComplete(t *testing.T) {
	for _, d := range Decls() {
		if d.Doc == "" || d.Mechanism == "" || d.Level == "" {
			t.Errorf("%s: want a doc, a mechanism and a level: %+v", d.Name, d)
		}
		for _, p := range append(append([]Param{}, d.Required...), d.Optional...) {
			if _, ok := LookupParam(p); !ok {
				t.Errorf("%s takes undeclared parameter %s", d.Name, p)
			}
		}
		for _, p := range append(append([]Param{}, d.AnyOf...), d.OneOf...) {
			if !d.Takes(p) {
				t.Errorf("%s: rule names %s, which it does not take", d.Name, p)
			}
		}
		for p, text := range d.Defaults {
			var ps Params
			if !d.Takes(p) || d.Requires(p) {
				t.Errorf("%s: default for %s, which is not an optional parameter of it", d.Name, p)
			}
			if err := ps.SetText(p, text); err != nil {
				t.Errorf("%s: default %s=%q: %v", d.Name, p, text, err)
			}
		}
	}
}

// TestParamsFieldsAreDeclared: every field of Params is a declared
// parameter under its yaml and json names, and every declared parameter
// but the window ones is a field.
func TestParamsFieldsAreDeclared(t *testing.T) {
	typ := reflect.TypeFor[Params]()
	fields := map[Param]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		y, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		j, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if y != j {
			t.Errorf("field %s: yaml name %q, json name %q", f.Name, y, j)
		}
		if _, ok := LookupParam(Param(y)); !ok {
			t.Errorf("field %s (%s) is not declared in ParamDecls", f.Name, y)
		}
		fields[Param(y)] = true
	}
	for _, p := range ParamDecls {
		if !p.Window && !fields[p.Name] {
			t.Errorf("parameter %s is declared but is no field of Params", p.Name)
		}
		if p.Doc == "" {
			t.Errorf("parameter %s has no doc", p.Name)
		}
	}
}

// TestProblemMessages: bounds errors read as the schema has always written
// them.
func TestProblemMessages(t *testing.T) {
	p := func(name Param) ParamDecl { d, _ := LookupParam(name); return d }
	cases := []struct {
		d    ParamDecl
		v    float64
		want string
	}{
		{p(ParamPercent), 0, "must be more than 0 and at most 100, got 0"},
		{p(ParamPercent), 100, ""},
		{p(ParamPercent), 101, "must be more than 0 and at most 100, got 101"},
		{p(ParamDelay), 0, "must be more than 0s"},
		{p(ParamRate), 0, "must be more than 0bit"},
		{p(ParamGrace), 0, "must be more than 0s (use kill for no grace)"},
		{p(ParamMiB), -1, "must be more than 0, got -1"},
		{p(ParamClockRate), 1, "must be more than 0 and not 1, got 1"},
		{p(ParamClockRate), 0.5, ""},
		{p(ParamOffset), -5, ""},
		{p(ParamRestartAfter), 0, "must be more than 0s (leave it out to keep the node down until the run ends)"},
	}
	for _, c := range cases {
		if got := c.d.Problem(c.v); got != c.want {
			t.Errorf("%s.Problem(%g) = %q, want %q", c.d.Name, c.v, got, c.want)
		}
	}
}

// TestForClearsWhatTheKindDoesNotTake: a nemesis's shared parameters reach
// each kind without the ones it does not take.
func TestForClearsWhatTheKindDoesNotTake(t *testing.T) {
	p := Params{Percent: 20, Delay: Duration(5e6), Grace: Duration(1e9)}
	if got := p.For(Loss); got != (Params{Percent: 20}) {
		t.Errorf("For(loss) = %+v", got)
	}
	if got := p.For(Reorder); got != (Params{Percent: 20, Delay: Duration(5e6)}) {
		t.Errorf("For(reorder) = %+v", got)
	}
}

// TestSelectors: the words are words, node names are nodes, and Problem
// names what is wrong.
func TestSelectors(t *testing.T) {
	for _, d := range Selectors() {
		if !d.Selector.Word() || d.Doc == "" {
			t.Errorf("selector %+v", d)
		}
		if _, ok := d.Selector.Node(); ok {
			t.Errorf("selector word %s parses as a node", d.Selector)
		}
	}
	if k, ok := Selector("n12").Node(); !ok || k != 12 {
		t.Errorf("n12 = %d, %v", k, ok)
	}
	for _, bad := range []Selector{"n0", "n", "n01", "x1"} {
		if _, ok := bad.Node(); ok {
			t.Errorf("%s parses as a node", bad)
		}
	}
	if got := Selector("n4").Problem(3); got != "n4 names no node (the cluster has n1..n3)" {
		t.Errorf("n4 in 3 nodes: %q", got)
	}
	if got := Minority.Problem(2); got != "minority names no node in a 2-node cluster" {
		t.Errorf("minority in 2 nodes: %q", got)
	}
}
