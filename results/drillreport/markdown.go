package drillreport

import (
	"text/template"

	"github.com/hadrill/hadrill/results/internal/render"
)

// drillMarkdownTemplate is the Markdown drill report: the same content as
// the HTML one without the plots, for wikis and pull requests.
var drillMarkdownTemplate = template.Must(template.New("drill.md").Funcs(template.FuncMap{"md": render.MarkdownCell}).Parse(
	`# hadrill drill report

{{.Runs}} runs from {{.From}} to {{.To}}{{if .Since}} (runs since {{.Since}}){{end}}; generated {{.Generated}}.

## Overview

| scenario | runs | pass rate | RTO p50 | RTO p95 | RTO max | lost writes total | lost writes max/run | availability median | availability min |
|---|---|---|---|---|---|---|---|---|---|
{{range .Scenarios}}| {{md .Name}} | {{.Runs}} | {{.PassRate}} | {{.RTOP50}} | {{.RTOP95}} | {{.RTOMax}} | {{.LostTotal}} | {{.LostMax}} | {{.AvailMedian}} | {{.AvailMin}} |
{{end}}
{{range .Scenarios}}## Scenario ` + "`{{.Name}}`" + `

- Runs: {{.Runs}} ({{.Passed}} pass, {{.Failed}} fail, {{.Unknown}} unknown); pass rate {{.PassRate}}.
- RTO: p50 {{.RTOP50}}, p95 {{.RTOP95}}, max {{.RTOMax}} ({{.RTONote}}).
- RPO (lost writes): total {{.LostTotal}}, max per run {{.LostMax}} ({{.LostNote}}).
- Availability: median {{.AvailMedian}}, min {{.AvailMin}} ({{.AvailNote}}).

Worst runs:
{{range .Worst}}
- [{{.Started}}]({{.Link}}): {{.Verdict}}, RTO {{.RTO}}, lost writes {{.Lost}}{{end}}

{{end}}## Projection of yearly downtime and lost writes (a model, not a measurement)

Monte Carlo over {{.Simulations}} simulated periods of {{.Years}} year(s) each, at {{.Rate}} failure(s) per year of each drilled kind (seed {{.Seed}}).

Assumptions: {{.Assumptions}}

| scenario | drawn from | downtime mean | downtime p50 | downtime p95 | lost writes mean | lost writes p50 | lost writes p95 | P(any loss) | P(unrecovered failure) |
|---|---|---|---|---|---|---|---|---|---|
{{range .Scenarios}}| {{md .Name}} |{{with .Projection}} {{.Samples}} | {{.DowntimeMean}} | {{.DowntimeP50}} | {{.DowntimeP95}} | {{.LostMean}} | {{.LostP50}} | {{.LostP95}} | {{.PAnyLoss}} | {{.PUnrecovered}} |{{end}}
{{end}}`))
