package drillreport

import (
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/render"
)

// reportView is what the drill report templates (HTML and Markdown) render.
type reportView struct {
	Generated, From, To, Since string
	Runs                       int
	Scenarios                  []scenarioView
	Rate, Years                string
	Simulations                int
	Seed                       uint64
	Assumptions                string
	CSS                        template.CSS
}

// scenarioView is one scenario, formatted.
type scenarioView struct {
	ID, Name                         string
	Runs, Passed, Failed, Unknown    int
	PassRate                         string
	RTOP50, RTOP95, RTOMax, RTONote  string
	LostTotal, LostMax, LostNote     string
	AvailMedian, AvailMin, AvailNote string
	Trend                            template.HTML
	Worst                            []worstRunView
	Projection                       projectionView
}

// worstRunView is a link to a run worth opening.
type worstRunView struct {
	Link, Started, Verdict, RTO, Lost string
}

// projectionView is a projection, formatted.
type projectionView struct {
	Samples                                string
	DowntimeMean, DowntimeP50, DowntimeP95 string
	LostMean, LostP50, LostP95             string
	PUnrecovered, PAnyLoss                 string
}

// buildDrillView formats d for a report written to outPath; links to runs
// are relative to outPath's folder, so the report and the results can be
// archived together. withPlots draws the trend plots (HTML only).
func buildView(d Report, outPath string, withPlots bool) (reportView, error) {
	v := reportView{
		Generated: time.Now().UTC().Format(time.RFC3339), Runs: d.Runs,
		From: d.From.UTC().Format(time.RFC3339), To: d.To.UTC().Format(time.RFC3339),
		Rate: fmt.Sprintf("%g", d.Options.FailuresPerYear), Years: fmt.Sprintf("%g", d.Options.Years),
		Simulations: d.Options.Simulations, Seed: d.Options.Seed,
		Assumptions: ProjectionAssumptions, CSS: template.CSS(render.BaseCSS),
	}
	if !d.Options.Since.IsZero() {
		v.Since = d.Options.Since.UTC().Format(time.RFC3339)
	}
	base, err := filepath.Abs(filepath.Dir(outPath))
	if err != nil {
		return v, fmt.Errorf("resolve report folder: %w", err)
	}
	for _, s := range d.Scenarios {
		sv := viewOf(s, base)
		if withPlots {
			if sv.Trend, err = trendPlot(s); err != nil {
				return v, err
			}
		}
		v.Scenarios = append(v.Scenarios, sv)
	}
	return v, nil
}

// scenarioView formats one scenario.
func viewOf(s Scenario, base string) scenarioView {
	n := len(s.Runs)
	sv := scenarioView{
		ID: "scenario-" + htmlID(s.Scenario), Name: s.Scenario,
		Runs: n, Passed: s.Passed, Failed: s.Failed, Unknown: s.Unknown,
		PassRate: fmt.Sprintf("%.1f%%", 100*s.PassRate()),
		RTOP50:   secondsText(s.RTOP50), RTOP95: secondsText(s.RTOP95), RTOMax: secondsText(s.RTOMax),
		RTONote: fmt.Sprintf("p50 and p95 over the %d of %d runs with a bounded RTO; left out: %d unbounded, %d unknown",
			s.RTORuns, n, s.Unbounded, s.RTOUnknown),
		LostTotal: render.FormatValue(s.LostTotal, "writes"), LostMax: render.FormatValue(s.LostMax, "writes"),
		LostNote: fmt.Sprintf("measured in %d of %d runs; runs with lost writes: %d; left out: %d unknown",
			s.RPORuns, n, s.RunsWithLoss, s.RPOUnknown),
		AvailMedian: render.FormatValue(s.AvailMedian, "ratio"), AvailMin: render.FormatValue(s.AvailMin, "ratio"),
		AvailNote:  fmt.Sprintf("measured in %d of %d runs", s.AvailRuns, n),
		Projection: projectionOf(s.Projection),
	}
	if s.RPORuns == 0 {
		sv.LostTotal, sv.LostMax = "–", "–"
	}
	for _, r := range s.Worst {
		w := worstRunView{Link: runLink(r.Dir, base), Started: r.Verdict.Started.UTC().Format(time.RFC3339),
			Verdict: string(r.Verdict.Verdict), RTO: "–", Lost: "–"}
		if rto, ok := r.Verdict.RTO(); ok {
			w.RTO = secondsText(rto)
		}
		if l, ok := r.Verdict.LostWrites(); ok {
			w.Lost = render.FormatValue(l, "writes")
		}
		sv.Worst = append(sv.Worst, w)
	}
	return sv
}

// projectionOf formats a projection; quantities that were not measured
// read "not measured" rather than 0.
func projectionOf(p Projection) projectionView {
	pv := projectionView{
		Samples:      fmt.Sprintf("%d runs with RTO, %d with lost writes", p.DowntimeSamples, p.LossSamples),
		DowntimeMean: "not measured", DowntimeP50: "–", DowntimeP95: "–",
		LostMean: "not measured", LostP50: "–", LostP95: "–",
		PUnrecovered: fmt.Sprintf("%.1f%%", 100*p.PUnrecovered), PAnyLoss: fmt.Sprintf("%.1f%%", 100*p.PAnyLoss),
	}
	minutes := func(x float64) string { return strings.TrimSuffix(fmt.Sprintf("%.2f", x), ".00") + " min" }
	writes := func(x float64) string { return fmt.Sprintf("%.1f", x) }
	if p.DowntimeSamples > 0 {
		pv.DowntimeMean, pv.DowntimeP50, pv.DowntimeP95 =
			minutes(p.DowntimeMinutes.Mean), minutes(p.DowntimeMinutes.P50), minutes(p.DowntimeMinutes.P95)
	}
	if p.LossSamples > 0 {
		pv.LostMean, pv.LostP50, pv.LostP95 = writes(p.LostWrites.Mean), writes(p.LostWrites.P50), writes(p.LostWrites.P95)
	} else {
		pv.PAnyLoss = "–"
	}
	return pv
}

// secondsText is a duration in seconds with its unit, or "unbounded".
func secondsText(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "unbounded"
	case math.IsNaN(v):
		return "–"
	}
	return render.FormatValue(v, "seconds") + " s"
}

// runLink is a relative link from base to a run's report.html, or to the
// run folder when it has no report.
func runLink(dir, base string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.ToSlash(dir)
	}
	target := abs
	if _, err := os.Stat(filepath.Join(abs, results.ReportFile)); err == nil {
		target = filepath.Join(abs, results.ReportFile)
	}
	rel, err := filepath.Rel(base, target)
	if err != nil {
		return filepath.ToSlash(target)
	}
	return filepath.ToSlash(rel)
}

var nonID = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// htmlID makes a scenario name usable as an HTML id and anchor.
func htmlID(s string) string { return nonID.ReplaceAllString(s, "-") }
