package drillreport

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/render"
)

// Write writes the drill report for d to path: Markdown when
// path ends in .md, self-contained HTML (inline CSS and SVG) otherwise.
// Links to runs are relative to path's folder.
func Write(path string, d Report) error {
	md := render.IsMarkdown(path)
	view, err := buildView(d, path, !md)
	if err != nil {
		return fmt.Errorf("write drill report: %w", err)
	}
	var buf bytes.Buffer
	if md {
		err = drillMarkdownTemplate.Execute(&buf, view)
	} else {
		err = drillHTMLTemplate.Execute(&buf, view)
	}
	if err != nil {
		return fmt.Errorf("render drill report: %w", err)
	}
	return results.WriteFileAtomic(path, buf.Bytes())
}

// drillHTMLTemplate is the HTML drill report: an overview, a section per
// scenario, and the projection with its assumptions.
var drillHTMLTemplate = template.Must(template.New("drill").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hadrill drill report</title>
<style>{{.CSS}}</style></head><body>
<h1>hadrill drill report</h1>
<p class="meta">{{.Runs}} runs from {{.From}} to {{.To}}{{if .Since}} (runs since {{.Since}}){{end}} · generated {{.Generated}}</p>
<h2 id="overview">Overview</h2>
<table><tr><th>scenario</th><th>runs</th><th>pass rate</th><th>RTO p50</th><th>RTO p95</th><th>RTO max</th><th>lost writes total</th><th>lost writes max/run</th><th>availability median</th><th>availability min</th></tr>
{{range .Scenarios}}<tr><td><a href="#{{.ID}}">{{.Name}}</a></td><td class="num">{{.Runs}}</td><td class="num">{{.PassRate}}</td><td class="num">{{.RTOP50}}</td><td class="num">{{.RTOP95}}</td><td class="num">{{.RTOMax}}</td><td class="num">{{.LostTotal}}</td><td class="num">{{.LostMax}}</td><td class="num">{{.AvailMedian}}</td><td class="num">{{.AvailMin}}</td></tr>
{{end}}</table>
{{range .Scenarios}}<section class="scenario" id="{{.ID}}">
<h2>Scenario <code>{{.Name}}</code></h2>
<table>
<tr><th>runs</th><td>{{.Runs}}: <span class="pass">{{.Passed}} pass</span>, <span class="fail">{{.Failed}} fail</span>, <span class="unknown">{{.Unknown}} unknown</span> (pass rate {{.PassRate}})</td></tr>
<tr><th>RTO</th><td>p50 {{.RTOP50}}, p95 {{.RTOP95}}, max {{.RTOMax}} <span class="meta">({{.RTONote}})</span></td></tr>
<tr><th>RPO (lost writes)</th><td>total {{.LostTotal}}, max per run {{.LostMax}} <span class="meta">({{.LostNote}})</span></td></tr>
<tr><th>availability</th><td>median {{.AvailMedian}}, min {{.AvailMin}} <span class="meta">({{.AvailNote}})</span></td></tr>
</table>
<figure>{{.Trend}}</figure>
<h3>Worst runs</h3>
<table><tr><th>run</th><th>started</th><th>verdict</th><th>RTO</th><th>lost writes</th></tr>
{{range .Worst}}<tr><td><a href="{{.Link}}">{{.Link}}</a></td><td>{{.Started}}</td><td class="{{.Verdict}}">{{.Verdict}}</td><td class="num">{{.RTO}}</td><td class="num">{{.Lost}}</td></tr>
{{end}}</table>
</section>
{{end}}
<section id="projection">
<h2>Projection of yearly downtime and lost writes (a model, not a measurement)</h2>
<p class="note">Monte Carlo over {{.Simulations}} simulated periods of {{.Years}} year(s) each, at {{.Rate}} failure(s) per year
of each drilled kind (seed {{.Seed}}). Assumptions: {{.Assumptions}}</p>
<table><tr><th>scenario</th><th>drawn from</th><th>downtime mean</th><th>downtime p50</th><th>downtime p95</th><th>lost writes mean</th><th>lost writes p50</th><th>lost writes p95</th><th>P(any loss)</th><th>P(unrecovered failure)</th></tr>
{{range .Scenarios}}<tr><td>{{.Name}}</td>{{with .Projection}}<td>{{.Samples}}</td><td class="num">{{.DowntimeMean}}</td><td class="num">{{.DowntimeP50}}</td><td class="num">{{.DowntimeP95}}</td><td class="num">{{.LostMean}}</td><td class="num">{{.LostP50}}</td><td class="num">{{.LostP95}}</td><td class="num">{{.PAnyLoss}}</td><td class="num">{{.PUnrecovered}}</td>{{end}}</tr>
{{end}}
</table>
</section>
</body></html>
`))
