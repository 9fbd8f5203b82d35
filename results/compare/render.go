package compare

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/render"
)

// Method explains the statistics of a comparison in words, for
// every output that shows one.
const Method = "Center: the median of the runs' values (the empirical median: for an even count, the lower middle value); " +
	"unknown and unbounded values are left out of centers, intervals and tests, and counted in the n column (base/candidate); " +
	"a larger share of unbounded values in the candidate is a regression. " +
	"For a check, and for the verdict, its pass rate: unknown counts as not passing, an aborted run as a failed one; " +
	"the unknowns are counted in the n column. " +
	"Diff: candidate minus baseline, with a percentile bootstrap interval " +
	"(each side resampled with replacement, seeded). p: two-sided Mann–Whitney U test, normal approximation " +
	"with tie and continuity corrections; rough below 5 runs per side (marked n<5). " +
	"A metric regresses when the candidate is worse (higher RTO, lost writes or latency; lower availability or pass rate) " +
	"by more than max(threshold × |baseline center|, the metric's floor: RTO 0.1 s, lost writes 0.5, availability 0.001, " +
	"latency 1 ms), and p < alpha. A check (or the verdict) that passes in every baseline run and fails in any candidate run is always a regression, " +
	"and so is one that was decided (pass or fail) in the baseline and is unknown in a larger share of candidate runs than of baseline runs: " +
	"a candidate that can no longer be checked has not shown that it is as good."

// compareRow is one metric of one scenario, formatted.
type compareRow struct {
	Metric, N, Base, Cand, Diff, CI, P, Verdict, Reason string
	Regression                                          bool
}

// compareRows formats a scenario's comparison.
func compareRows(sc Scenario) []compareRow {
	rows := make([]compareRow, 0, len(sc.Metrics))
	for _, m := range sc.Metrics {
		r := compareRow{Metric: m.Name, N: fmt.Sprintf("%d/%d", m.NBase, m.NCand) + leftOutText(m), Reason: m.Reason,
			Base: "–", Cand: "–", Diff: "–", CI: "–", P: "–", Verdict: "–", Regression: m.Regression}
		if m.NBase > 0 && m.NCand > 0 {
			r.Base, r.Cand = centerText(m, m.BaseCenter, m.NBase), centerText(m, m.CandCenter, m.NCand)
			r.Diff = diffText(m, m.Diff)
			r.CI = "[" + diffText(m, m.CILow) + ", " + diffText(m, m.CIHigh) + "]"
			r.P = fmt.Sprintf("%.3g", m.P)
			r.Verdict = "ok"
			if m.Tiny {
				r.Verdict = "ok (n<5)"
			}
		}
		if m.Regression {
			r.Verdict = "REGRESSION"
			if m.Tiny {
				r.Verdict += " (n<5)"
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// leftOutText says how many runs' values were left out, per side; for a
// pass rate, how many were unknown (counted as not passing).
func leftOutText(m Metric) string {
	if m.PassRate {
		if m.BaseUnknown+m.CandUnknown == 0 {
			return ""
		}
		return fmt.Sprintf(" (unknown: %d/%d)", m.BaseUnknown, m.CandUnknown)
	}
	var parts []string
	if m.BaseUnknown+m.CandUnknown > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d unknown", m.BaseUnknown, m.CandUnknown))
	}
	if m.BaseUnbounded+m.CandUnbounded > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d unbounded", m.BaseUnbounded, m.CandUnbounded))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (left out: " + strings.Join(parts, ", ") + ")"
}

// centerText prints a side's center: a pass count and rate for checks.
func centerText(m Metric, v float64, n int) string {
	if m.PassRate {
		return fmt.Sprintf("%d/%d (%.0f%%)", int(math.Round(v*float64(n))), n, 100*v)
	}
	return render.FormatValue(v, m.Unit)
}

// diffText prints a signed difference: percentage points for pass rates.
func diffText(m Metric, v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "+unbounded"
	case math.IsInf(v, -1):
		return "-unbounded"
	case m.PassRate:
		return fmt.Sprintf("%+.1f pp", 100*v)
	}
	s := render.FormatValue(v, m.Unit)
	if v >= 0 {
		s = "+" + s
	}
	return s
}

// scenarioTitle names a compared pair.
func scenarioTitle(sc Scenario) string {
	if sc.Baseline == sc.Candidate {
		return fmt.Sprintf("%s (baseline %d runs, candidate %d runs)", sc.Baseline, sc.BaseRuns, sc.CandRuns)
	}
	return fmt.Sprintf("baseline %s (%d runs) vs candidate %s (%d runs)", sc.Baseline, sc.BaseRuns, sc.Candidate, sc.CandRuns)
}

// Conclusion is the comparison's one-line answer.
func (c *Comparison) Conclusion() string {
	var regs []string
	for _, sc := range c.Scenarios {
		for _, m := range sc.Metrics {
			if m.Regression {
				regs = append(regs, sc.Candidate+": "+m.Name)
			}
		}
	}
	if len(regs) == 0 {
		return "No regression."
	}
	return "REGRESSION: " + strings.Join(regs, "; ") + "."
}

// WriteText writes the comparison as plain-text tables, for stdout.
func (c *Comparison) WriteText(w io.Writer) error {
	level := fmt.Sprintf("%g%% CI", 100*(1-c.Options.Alpha))
	var b bytes.Buffer
	for _, sc := range c.Scenarios {
		fmt.Fprintf(&b, "%s\n", scenarioTitle(sc))
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  metric\tn\tbaseline\tcandidate\tdiff\t%s\tp\tverdict\n", level)
		for _, r := range compareRows(sc) {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Metric, r.N, r.Base, r.Cand, r.Diff, r.CI, r.P, r.Verdict)
		}
		tw.Flush()
		for _, r := range compareRows(sc) {
			if r.Regression {
				fmt.Fprintf(&b, "  regression: %s: %s\n", r.Metric, r.Reason)
			}
		}
		b.WriteString("\n")
	}
	for _, u := range c.Unmatched {
		fmt.Fprintf(&b, "not compared (%s)\n", u)
	}
	b.WriteString(c.Conclusion() + "\n")
	_, err := w.Write(b.Bytes())
	return err
}

// compareView is what the file templates render.
type compareView struct {
	Level, Conclusion, Method string
	Threshold, Alpha          string
	Resamples                 int
	Seed                      uint64
	Unmatched                 []string
	Scenarios                 []compareScenarioView
	Regression                bool
	CSS                       htmltemplate.CSS
}

type compareScenarioView struct {
	Title string
	Rows  []compareRow
}

// WriteFile writes the comparison to path: Markdown when path ends in
// .md, self-contained HTML otherwise.
func (c *Comparison) WriteFile(path string) error {
	v := compareView{Level: fmt.Sprintf("%g%% CI", 100*(1-c.Options.Alpha)), Conclusion: c.Conclusion(),
		Method: Method, Threshold: fmt.Sprintf("%g%%", 100*c.Options.Threshold),
		Alpha: fmt.Sprintf("%g", c.Options.Alpha), Resamples: c.Options.Resamples, Seed: c.Options.Seed,
		Unmatched: c.Unmatched, Regression: c.Regression, CSS: htmltemplate.CSS(render.BaseCSS)}
	for _, sc := range c.Scenarios {
		v.Scenarios = append(v.Scenarios, compareScenarioView{Title: scenarioTitle(sc), Rows: compareRows(sc)})
	}
	var buf bytes.Buffer
	var err error
	if render.IsMarkdown(path) {
		err = compareMarkdownTemplate.Execute(&buf, v)
	} else {
		err = compareHTMLTemplate.Execute(&buf, v)
	}
	if err != nil {
		return fmt.Errorf("render comparison: %w", err)
	}
	return results.WriteFileAtomic(path, buf.Bytes())
}

var compareMarkdownTemplate = template.Must(template.New("compare.md").Funcs(template.FuncMap{"md": render.MarkdownCell}).Parse(
	`# hadrill compare: {{.Conclusion}}

Threshold {{.Threshold}}, alpha {{.Alpha}}, {{.Resamples}} bootstrap resamples, seed {{.Seed}}.
{{range .Scenarios}}
## {{md .Title}}

| metric | n (base/cand) | baseline | candidate | diff | {{$.Level}} | p | verdict |
|---|---|---|---|---|---|---|---|
{{range .Rows}}| {{md .Metric}} | {{.N}} | {{.Base}} | {{.Cand}} | {{.Diff}} | {{.CI}} | {{.P}} | {{if .Regression}}**REGRESSION**: {{md .Reason}}{{else}}{{.Verdict}}{{end}} |
{{end}}{{end}}{{range .Unmatched}}
Not compared: {{.}}.
{{end}}
How to read this: {{.Method}}
`))

var compareHTMLTemplate = htmltemplate.Must(htmltemplate.New("compare").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hadrill compare</title><style>{{.CSS}}</style></head><body>
<h1>hadrill compare: <span class="{{if .Regression}}regression{{else}}pass{{end}}">{{.Conclusion}}</span></h1>
<p class="meta">Threshold {{.Threshold}}, alpha {{.Alpha}}, {{.Resamples}} bootstrap resamples, seed {{.Seed}}.</p>
{{range .Scenarios}}<section class="scenario"><h2>{{.Title}}</h2>
<table><tr><th>metric</th><th>n (base/cand)</th><th>baseline</th><th>candidate</th><th>diff</th><th>{{$.Level}}</th><th>p</th><th>verdict</th></tr>
{{range .Rows}}<tr><td>{{.Metric}}</td><td class="num">{{.N}}</td><td class="num">{{.Base}}</td><td class="num">{{.Cand}}</td><td class="num">{{.Diff}}</td><td class="num">{{.CI}}</td><td class="num">{{.P}}</td><td{{if .Regression}} class="regression"{{end}}>{{.Verdict}}{{if .Regression}}: {{.Reason}}{{end}}</td></tr>
{{end}}</table></section>
{{end}}{{range .Unmatched}}<p class="note">Not compared: {{.}}.</p>{{end}}
<p class="meta">How to read this: {{.Method}}</p>
</body></html>
`))
