package kind

import (
	"fmt"
	"strings"
)

// Markdown renders the declarations as the tables of docs/faults.md: the
// kinds, the parameters and the selector words. A test compares the file
// with it, so the docs cannot drift from the declarations.
func Markdown() string {
	var b strings.Builder
	b.WriteString("## Kinds\n\n")
	b.WriteString("| kind | level | parameters | what it does | mechanism | target | rules |\n|---|---|---|---|---|---|---|\n")
	for _, d := range table {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", d.Name, d.Level, cell(d.ParamsDoc()),
			cell(d.Doc), cell(d.Mechanism), cell(d.Target.Doc()), cell(d.RulesDoc()))
	}
	b.WriteString("\n## Parameters\n\n")
	b.WriteString("| parameter | value | bounds | what it means |\n|---|---|---|---|\n")
	for _, p := range ParamDecls {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, p.Value, cell(p.boundsDoc()), cell(p.Doc))
	}
	b.WriteString("\n## Target selectors\n\n")
	b.WriteString("| selector | picks |\n|---|---|\n")
	for _, s := range selectorDecls {
		fmt.Fprintf(&b, "| `%s` | %s |\n", s.Selector, cell(s.Doc))
	}
	b.WriteString("| `n1`..`nN` | that node |\n")
	return b.String()
}

// cell escapes what would break a Markdown table cell.
func cell(s string) string {
	if s == "" {
		return "–"
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

// ParamsDoc lists the kind's parameters, the required ones first, with
// their defaults: "duration, percent; optional: delay (default 10ms)".
func (d Decl) ParamsDoc() string {
	var parts []string
	if len(d.Required) > 0 {
		parts = append(parts, joinParams(d.Required, nil))
	}
	if len(d.Optional) > 0 {
		parts = append(parts, "optional: "+joinParams(d.Optional, d.Defaults))
	}
	return strings.Join(parts, "; ")
}

func joinParams(ps []Param, defaults map[Param]string) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
		if v, ok := defaults[p]; ok {
			out[i] += " (default " + v + ")"
		}
	}
	return strings.Join(out, ", ")
}

// RulesDoc says in words what the kind asks beyond its parameter list.
func (d Decl) RulesDoc() string {
	var rules []string
	if len(d.AnyOf) > 0 {
		rules = append(rules, "needs "+orWords(d.AnyOf, "or both"))
	}
	if len(d.OneOf) > 0 {
		rules = append(rules, "give "+orWords(d.OneOf, "not both"))
	}
	if d.Preloads != "" {
		rules = append(rules, "not on a static binary: needs "+d.Preloads)
	}
	if d.Disk {
		rules = append(rules, "needs the data folder under the agent's FUSE layer")
	}
	return strings.Join(rules, "; ")
}

// orWords writes "a, b or both" (or "a or b, not both") for rule messages.
func orWords(ps []Param, tail string) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = string(p)
	}
	if strings.HasPrefix(tail, "or ") {
		return strings.Join(names, ", ") + " " + tail
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + ", " + tail
}

// AnyOfProblem is the message when none of AnyOf is given.
func (d Decl) AnyOfProblem() string {
	return fmt.Sprintf("%s needs %s", d.Name, orWords(d.AnyOf, "or both"))
}

// OneOfProblem is the message when more than one of OneOf is given.
func (d Decl) OneOfProblem() string { return "give " + orWords(d.OneOf, "not both") }

// boundsDoc says the bounds in words: "more than 0 and at most 100".
func (p ParamDecl) boundsDoc() string {
	if !p.Bounds.Positive {
		return ""
	}
	s := "more than " + p.zero()
	if p.Bounds.AtMost != 0 {
		s += fmt.Sprintf(", at most %g", p.Bounds.AtMost)
	}
	if p.Bounds.Not != 0 {
		s += fmt.Sprintf(", not %g", p.Bounds.Not)
	}
	return s
}
