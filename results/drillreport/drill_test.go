package drillreport

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/fakerun"
)

func TestBuildDrillStatistics(t *testing.T) {
	runs, err := results.FindRuns(fakerun.WriteDrill(t))
	if err != nil {
		t.Fatal(err)
	}
	d := Build(runs, Options{FailuresPerYear: 4, Years: 1})
	if len(d.Scenarios) != 2 || d.Scenarios[0].Scenario != "kill-primary" {
		t.Fatalf("scenarios %+v", d.Scenarios)
	}
	k := d.Scenarios[0]
	// RTO 1..10: empirical p50 is 5, p95 is 10.
	if k.RTOP50 != 5 || k.RTOP95 != 10 || k.RTOMax != 10 || k.RTORuns != 10 {
		t.Errorf("kill-primary RTO p50/p95/max/n = %v/%v/%v/%d, want 5/10/10/10", k.RTOP50, k.RTOP95, k.RTOMax, k.RTORuns)
	}
	if k.Passed != 9 || k.Failed != 1 || k.PassRate() != 0.9 {
		t.Errorf("kill-primary passed/failed = %d/%d", k.Passed, k.Failed)
	}
	if k.LostTotal != 4 || k.LostMax != 4 || k.RunsWithLoss != 1 {
		t.Errorf("kill-primary lost total/max/runs = %v/%v/%d, want 4/4/1", k.LostTotal, k.LostMax, k.RunsWithLoss)
	}
	if k.AvailMedian != 0.95 || k.AvailMin != 0.95 {
		t.Errorf("availability median/min = %v/%v", k.AvailMedian, k.AvailMin)
	}
	if k.Worst[0].Verdict.Verdict != "fail" {
		t.Errorf("the failed run is not listed first among the worst")
	}
	p := d.Scenarios[1]
	if p.Unbounded != 1 || !math.IsInf(p.RTOMax, 1) {
		t.Errorf("partition-primary unbounded=%d max=%v, want 1 and +Inf", p.Unbounded, p.RTOMax)
	}
	if p.Projection.PUnrecovered == 0 || k.Projection.PUnrecovered != 0 {
		t.Errorf("P(unrecovered) = %v (partition), %v (kill); want >0 and 0", p.Projection.PUnrecovered, k.Projection.PUnrecovered)
	}
	// Mean yearly downtime: 4 failures × mean RTO 5.5 s = 22 s = 0.367 min.
	if got := k.Projection.DowntimeMinutes.Mean; math.Abs(got-22.0/60) > 0.02 {
		t.Errorf("projected mean downtime %.3f min, want about %.3f", got, 22.0/60)
	}
}

func TestWriteDrillReportHTML(t *testing.T) {
	root := fakerun.WriteDrill(t)
	runs, err := results.FindRuns(root)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "reports", "drill.html")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(out, Build(runs, Options{FailuresPerYear: 2, Years: 1})); err != nil {
		t.Fatal(err)
	}
	page := fakerun.ReadFile(t, out)
	if n := strings.Count(page, `<section class="scenario"`); n != 2 {
		t.Errorf("%d scenario sections, want 2", n)
	}
	if n := strings.Count(page, "<svg"); n != 2 {
		t.Errorf("%d SVG plots, want a trend plot per scenario (2)", n)
	}
	for _, want := range []string{`id="projection"`, "a model, not a measurement", "Poisson", "unbounded", "lower bound"} {
		if !strings.Contains(page, want) {
			t.Errorf("drill report lacks %q", want)
		}
	}
	links := regexp.MustCompile(`<a href="([^"#][^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(links) == 0 {
		t.Fatal("no links to runs")
	}
	for _, l := range links {
		if filepath.IsAbs(l[1]) || strings.Contains(l[1], "://") {
			t.Errorf("link %q is not relative", l[1])
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(out), filepath.FromSlash(l[1]))); err != nil {
			t.Errorf("link %q does not resolve from the report's folder: %v", l[1], err)
		}
	}
}

func TestWriteDrillReportMarkdown(t *testing.T) {
	runs, err := results.FindRuns(fakerun.WriteDrill(t))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "drill.md")
	if err := Write(out, Build(runs, Options{FailuresPerYear: 1, Years: 1})); err != nil {
		t.Fatal(err)
	}
	md := fakerun.ReadFile(t, out)
	for _, want := range []string{"## Scenario `kill-primary`", "## Scenario `partition-primary`",
		"## Projection of yearly downtime", "| kill-primary | 10 | 90.0% | 5.000 s | 10.000 s | 10.000 s | 4 | 4 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("drill.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<svg") || strings.Contains(md, "<section") {
		t.Error("drill.md contains HTML")
	}
}
