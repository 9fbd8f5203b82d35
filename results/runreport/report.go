// Package runreport writes report.html, the page a person opens to see
// how one run went: the checks against their targets, the faults and
// their recovery, latency, and time plots of throughput, latency,
// outcomes and the acting primary with the fault windows shaded. It reads
// only the run folder (or what the check just computed), so a report can
// be rebuilt offline from a saved run.
package runreport

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/render"
)

// keyValue is one item of a report's header line.
type keyValue struct{ K, V string }

// runReportView is what runReportTemplate renders.
type runReportView struct {
	Scenario, Verdict   string
	Meta                []keyValue
	Warnings            []string
	Checks              []render.CheckRow
	LinearizabilityLink string
	Ops                 string
	Timeline            template.HTML
	BucketSeconds       float64
	Faults              []faultRow
	Latency             []latencyRow
	ScenarioYAML        string
	CSS                 template.CSS
}

// Write writes report.html into a run folder that already holds its
// verdict.json (and, normally, history.jsonl, faults.jsonl and
// scenario.yaml): the checks against targets, the faults, latency, and time
// plots of throughput, latency, outcomes and the acting primary with the
// fault windows shaded. The page is self-contained (inline CSS and SVG), so
// it can be archived with the run and opened anywhere. It reads only files,
// so `hadrill check` or a later report rebuild can call it offline.
func Write(dir results.RunDir) error {
	d, err := loadRun(dir)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return writeReport(d)
}

// WriteChecked is Write for a caller that has just checked the run:
// it draws from the verdict and the paired history the check used, rather
// than reading and pairing history.jsonl a second time.
func WriteChecked(dir results.RunDir, v *results.Verdict, pairs []history.Operation, torn bool) error {
	d := &runData{Dir: dir, Verdict: v, Faults: v.Faults, Pairs: pairs, Torn: torn, Roles: readRoles(dir)}
	if b, err := os.ReadFile(dir.File(results.ScenarioFile)); err == nil {
		d.Scenario = string(b)
	}
	return writeReport(d)
}

// writeReport renders and writes report.html.
func writeReport(d *runData) error {
	dir := d.Dir
	view, err := buildRunView(d)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	var buf bytes.Buffer
	if err := runReportTemplate.Execute(&buf, view); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return results.WriteFileAtomic(dir.File(results.ReportFile), buf.Bytes())
}

// buildRunView gathers the page's content.
func buildRunView(d *runData) (runReportView, error) {
	v := d.Verdict
	s := buildSeries(d.Pairs, d.Roles, d.Faults, v.DurationSeconds)
	timeline, err := drawTimeline(s, faultWindows(d.Faults, s.End))
	if err != nil {
		return runReportView{}, err
	}
	view := runReportView{
		Scenario: v.Scenario, Verdict: string(v.Verdict), Meta: runMeta(v),
		Checks: render.CheckRows(v.Checks), Timeline: timeline, BucketSeconds: s.Width,
		Ops: fmt.Sprintf("%d total, %d ok, %d fail, %d info; %d final reads",
			v.Ops.Total, v.Ops.OK, v.Ops.Fail, v.Ops.Info, v.Ops.FinalReads),
		Faults:       faultRows(d.Faults, windowP99s(v.Latency)),
		Latency:      latencyRows(v.Latency),
		ScenarioYAML: d.Scenario,
		CSS:          template.CSS(render.BaseCSS),
		Warnings:     runWarnings(d, s),
	}
	if c, ok := v.Checks[checker.CheckLinearizability]; ok && c.Result == checker.Fail {
		view.LinearizabilityLink = results.LinearizeFile
	}
	return view, nil
}

// runMeta is the header line: what ran, when, for how long.
func runMeta(v *results.Verdict) []keyValue {
	meta := []keyValue{
		{"seed", fmt.Sprint(v.Seed)},
		{"started", v.Started.UTC().Format(time.RFC3339)},
		{"duration", render.FormatValue(v.DurationSeconds, "seconds") + " s"},
	}
	if v.System != "" {
		meta = append(meta, keyValue{"system", v.System})
	}
	if v.Image != "" {
		meta = append(meta, keyValue{"image", v.Image})
	}
	if v.Nodes > 0 {
		meta = append(meta, keyValue{"nodes", fmt.Sprint(v.Nodes)})
	}
	if len(v.Engines) > 0 {
		on := make([]string, 0, len(v.Engines))
		for n, e := range v.Engines {
			on = append(on, n+"@"+e)
		}
		slices.Sort(on)
		meta = append(meta, keyValue{"engines", strings.Join(on, " ")})
	}
	opts := make([]string, 0, len(v.Option))
	for k, val := range v.Option {
		opts = append(opts, k+"="+val)
	}
	slices.Sort(opts)
	if len(opts) > 0 {
		meta = append(meta, keyValue{"options", strings.Join(opts, " ")})
	}
	return meta
}

// runWarnings are the things a reader must know before trusting the page.
func runWarnings(d *runData, s series) []string {
	var out []string
	if d.Verdict.Interrupted {
		out = append(out, "The run was interrupted: its checks cover the partial history only.")
	}
	if d.Torn {
		out = append(out, "history.jsonl ended in a torn line (the run crashed); the complete prefix is shown.")
	}
	if len(d.Pairs) == 0 {
		out = append(out, "No history was found: the plots are empty.")
	}
	for _, e := range d.Verdict.Errors {
		out = append(out, "Run error: "+e)
	}
	if n := len(s.MultiClaimSpans); n > 0 {
		at := s.Centers[s.MultiClaimSpans[0]] - s.Width/2
		out = append(out, fmt.Sprintf("In %d %g-second bucket(s), starting at %.0f s, more than one node "+
			"said it was the primary: a failover inside that bucket, or a split brain.", n, s.Width, at))
	}
	if n := len(s.MultiWriterSpans); n > 0 {
		at := s.Centers[s.MultiWriterSpans[0]] - s.Width/2
		out = append(out, fmt.Sprintf("In %d %g-second bucket(s), starting at %.0f s, more than one node "+
			"acknowledged writes: a failover inside that bucket, or a split brain.", n, s.Width, at))
	}
	return out
}
