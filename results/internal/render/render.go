// Package render formats what a run measured for people to read: numbers
// with the precision their unit deserves, the checks table, Markdown table
// cells and the style every HTML page shares. The run folder's summary,
// the per-run report, the drill report and the comparison all draw on it,
// so that one value reads the same on every page.
package render

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/hadrill/hadrill/checker"
)

// BaseCSS styles every HTML page hadrill writes. It is inlined, as is
// everything else, so that a report opens from an archive, an artifact
// store or a mail attachment without fetching anything.
const BaseCSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.unknown{color:#9a6700;font-weight:600}
.aborted{color:#cf222e;font-weight:600}
.regression{color:#cf222e;font-weight:700}
.note{background:#fff8c5;border:1px solid #d4a72c;padding:.5em .8em;margin:.6em 0}
.meta{color:#555}figure{margin:1em 0}figcaption{color:#555;font-size:.85em}
svg{max-width:100%;height:auto}pre{background:#f6f8fa;padding:.8em;overflow:auto}
`

// CheckNames lists checks in checker.CheckOrder, any others after them by
// name, so that every table lists them alike.
func CheckNames(checks map[string]checker.Check) []string {
	var out []string
	for _, n := range checker.CheckOrder {
		if _, ok := checks[n]; ok {
			out = append(out, n)
		}
	}
	var rest []string
	for n := range checks {
		if !slices.Contains(checker.CheckOrder, n) {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// CheckRow is one check formatted for a table; a value or target that is
// absent reads "–".
type CheckRow struct {
	Name, Result, Value, Target, Unit, Detail string
}

// CheckRows formats a verdict's checks in CheckNames order.
func CheckRows(checks map[string]checker.Check) []CheckRow {
	var out []CheckRow
	for _, n := range CheckNames(checks) {
		c := checks[n]
		r := CheckRow{Name: n, Result: string(c.Result), Unit: c.Unit, Detail: c.Detail,
			Value: "–", Target: "–"}
		switch {
		case c.Unbounded:
			r.Value = "unbounded"
		case c.Value != nil:
			r.Value = FormatValue(*c.Value, c.Unit)
		}
		if c.Target != nil {
			r.Target = FormatValue(*c.Target, c.Unit)
		}
		if c.WindowSeconds != nil && *c.WindowSeconds > 0 {
			r.Value += fmt.Sprintf(" (window %s s)", FormatValue(*c.WindowSeconds, "seconds"))
		}
		out = append(out, r)
	}
	return out
}

// FormatValue prints a measurement with the precision its unit deserves:
// ratios to a hundredth of a percent, seconds to the millisecond, counts
// whole. +Inf reads "unbounded" and NaN (not measured) "–".
func FormatValue(v float64, unit string) string {
	switch {
	case math.IsInf(v, 1):
		return "unbounded"
	case math.IsNaN(v):
		return "–"
	}
	switch unit {
	case "ratio":
		return strconv.FormatFloat(v, 'f', 4, 64)
	case "seconds":
		return strconv.FormatFloat(v, 'f', 3, 64)
	case "writes", "runs":
		return strconv.FormatFloat(v, 'f', 0, 64)
	case "ms":
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// OptSeconds formats an optional time in seconds; nil (the stage never
// happened) reads "–".
func OptSeconds(v *float64) string {
	if v == nil {
		return "–"
	}
	return FormatValue(*v, "seconds")
}

// MarkdownCell makes text safe inside a Markdown table cell: a newline or
// a | in a check's detail would otherwise break the table.
func MarkdownCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// Truncate shortens s to n runes, marking the cut, so that one long
// detail cannot make a summary too long to post.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// IsMarkdown reports whether a report path asks for Markdown rather than
// HTML, as every command that writes a report decides it.
func IsMarkdown(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".md" || ext == ".markdown"
}
