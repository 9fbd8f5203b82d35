package results

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// drillFixture writes ten kill-primary runs a week apart (RTO 1..10 s, the
// 7th losing 4 writes) and three partition runs (the last unbounded), and
// marks the latest of each, as the runner does.
func drillFixture(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "results")
	var last RunDir
	for i := range 10 {
		r := defaultRun(t0.Add(time.Duration(i) * 7 * 24 * time.Hour))
		r.RTO = f64p(float64(i + 1))
		if i == 6 {
			r.Lost = 4
		}
		last = r.write(t, root)
	}
	if err := last.MarkLatest(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r := defaultRun(t0.Add(time.Duration(i) * 24 * time.Hour))
		r.Scenario = "partition-primary"
		r.RTO = f64p(3)
		if i == 2 {
			r.RTO, r.HealAt = nil, 0
			r.Checks = nil
		}
		last = r.write(t, root)
	}
	if err := last.MarkLatest(); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestFindRunsCountsEachRunOnce(t *testing.T) {
	root := drillFixture(t)
	latest := filepath.Join(root, "kill-primary", LatestLink)
	runs, err := FindRuns(root, latest, filepath.Join(root, "kill-primary"))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 13 {
		t.Errorf("found %d runs, want 13 (latest links and overlapping paths must not double count)", len(runs))
	}
	for i := 1; i < len(runs); i++ {
		if runs[i].Verdict.Started.Before(runs[i-1].Verdict.Started) {
			t.Fatal("runs are not in order of start time")
		}
	}
	only, err := FindRuns(latest)
	if err != nil || len(only) != 1 || !strings.HasPrefix(only[0].Dir, latest) {
		t.Errorf("FindRuns(latest link) = %d runs, %v; want the one run, named through the link", len(only), err)
	}
	if _, err := FindRuns(t.TempDir()); !errors.Is(err, ErrNoRuns) {
		t.Errorf("empty folder: err = %v, want ErrNoRuns", err)
	}
	if _, err := FindRuns(filepath.Join(root, "nope")); err == nil {
		t.Error("a missing folder is not an error")
	}
	if got := RunsSince(runs, t0.Add(50*24*time.Hour)); len(got) != 2 { // days 56 and 63
		t.Errorf("RunsSince kept %d runs, want 2", len(got))
	}
}

func TestBuildDrillStatistics(t *testing.T) {
	runs, err := FindRuns(drillFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	d := BuildDrill(runs, DrillOptions{FailuresPerYear: 4, Years: 1})
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
	root := drillFixture(t)
	runs, err := FindRuns(root)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "reports", "drill.html")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteDrillReport(out, BuildDrill(runs, DrillOptions{FailuresPerYear: 2, Years: 1})); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, out)
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
	runs, err := FindRuns(drillFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "drill.md")
	if err := WriteDrillReport(out, BuildDrill(runs, DrillOptions{FailuresPerYear: 1, Years: 1})); err != nil {
		t.Fatal(err)
	}
	md := readFile(t, out)
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
