package runreport

import (
	"html/template"
)

// runReportTemplate is report.html. Values are escaped by html/template;
// only the SVG plots, which this package generates, are trusted.
var runReportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>hadrill {{.Scenario}}: {{.Verdict}}</title>
<style>{{.CSS}}</style></head><body>
<h1>hadrill drill <code>{{.Scenario}}</code>: <span class="{{.Verdict}}">{{.Verdict}}</span></h1>
<p class="meta">{{range .Meta}}{{.K}}: <b>{{.V}}</b> · {{end}}</p>
{{range .Warnings}}<p class="note">{{.}}</p>
{{end}}
<h2 id="checks">Checks against targets</h2>
<table><tr><th>check</th><th>result</th><th>value</th><th>target</th><th>unit</th><th>detail</th></tr>
{{range .Checks}}<tr><td>{{.Name}}</td><td class="{{.Result}}">{{.Result}}</td><td class="num">{{.Value}}</td><td class="num">{{.Target}}</td><td>{{.Unit}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>
{{if .LinearizabilityLink}}<p class="note">Linearizability failed: see the <a href="{{.LinearizabilityLink}}">porcupine visualization</a>.</p>{{end}}
<p class="meta">Operations: {{.Ops}}</p>
<h2 id="timeline">Timeline</h2>
<p class="meta">Shaded: fault windows, from the request to the heal. Buckets of {{.BucketSeconds}} s, by completion time; final reads left out.</p>
<figure>{{.Timeline}}<figcaption>Panels share the time axis. Throughput counts ok operations; latency is p50 and p99 of ok operations;
outcomes count completions by type (info includes operations that never completed, at their invocation);
in the last panel, a mark is a second in which that node said it was the primary when the system was asked (for runs without roles.jsonl: a second in which it acknowledged a write).</figcaption></figure>
<h2 id="faults">Faults</h2>
{{if .Faults}}<table><tr><th>#</th><th>kind</th><th>target</th><th>nodes</th><th>requested s</th><th>first effect s</th><th>request to effect</th><th>effective everywhere s</th><th>healed s</th><th>RTO s (longest outage, from first effect)</th><th>availability</th><th>p99 in window</th><th>measured</th><th>errors</th></tr>
{{range .Faults}}<tr><td>{{.ID}}</td><td>{{.Kind}}</td><td>{{.Target}}</td><td>{{.Nodes}}</td><td class="num">{{.Requested}}</td><td class="num">{{.FirstEffective}}</td><td class="num">{{.EffectLatency}}</td><td class="num">{{.Effective}}</td><td class="num">{{.Healed}}</td><td class="num">{{.RTO}}{{if .Outages}}<br><small>outages: {{.Outages}}</small>{{end}}</td><td class="num">{{.Availability}}</td><td class="num">{{.WindowP99}}</td><td>{{.Measured}}</td><td>{{.Errors}}</td></tr>
{{end}}</table>{{else}}<p>No faults were injected.</p>{{end}}
<h2 id="latency">Latency of ok operations (ms)</h2>
{{if .Latency}}<table><tr><th>kind</th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>
{{range .Latency}}<tr><td>{{.Kind}}</td><td class="num">{{.Count}}</td><td class="num">{{.P50}}</td><td class="num">{{.P95}}</td><td class="num">{{.P99}}</td><td class="num">{{.Max}}</td></tr>
{{end}}</table>{{else}}<p>No operation completed ok.</p>{{end}}
{{if .ScenarioYAML}}<h2 id="scenario">Scenario as run</h2>
<details><summary>scenario.yaml</summary><pre>{{.ScenarioYAML}}</pre></details>{{end}}
</body></html>
`))
