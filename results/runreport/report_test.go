package runreport

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/results/internal/fakerun"
	"github.com/hadrill/hadrill/results/internal/svgplot"
)

func TestWriteReportIsSelfContained(t *testing.T) {
	dir := fakerun.Default(fakerun.T0).Write(t, t.TempDir())
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	page := fakerun.ReadFile(t, dir.File(results.ReportFile))
	for _, want := range []string{"<svg", "<style>", `id="checks"`, `id="faults"`, `id="latency"`,
		"kill-primary", "availability", "rto", `class="fault-window"`, "n1", "n2"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// Self-contained: nothing is fetched. (The SVG namespace URIs are
	// identifiers, never fetched, and are the only URLs allowed.)
	noNS := strings.NewReplacer(`xmlns="http://www.w3.org/2000/svg"`, "",
		`xmlns:xlink="http://www.w3.org/1999/xlink"`, "").Replace(page)
	for _, bad := range []string{"http://", "https://", "<script", "<link", "src=", "@import"} {
		if strings.Contains(noNS, bad) {
			t.Errorf("report.html is not self-contained: has %q", bad)
		}
	}
	if strings.Contains(page, results.LinearizeFile) {
		t.Error("report links linearizability.html although the check passed")
	}
}

func TestWriteReportLinksLinearizabilityOnFailure(t *testing.T) {
	r := fakerun.Default(fakerun.T0)
	r.Checks = map[string]checker.Check{checker.CheckLinearizability: {Result: checker.Fail, Detail: "k3: stale read"}}
	dir := r.Write(t, t.TempDir())
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	page := fakerun.ReadFile(t, dir.File(results.ReportFile))
	if !strings.Contains(page, `href="`+results.LinearizeFile+`"`) {
		t.Error("report does not link linearizability.html after a failed check")
	}
}

// TestReportShadingSitsAtFaultTime checks the shaded window against the
// x mapping of the data itself: the throughput line has one vertex per 1 s
// bucket at the bucket's centre, so its first and last vertices give the
// plot's x mapping, drawn by gonum. The fault window's rectangle, drawn by
// our own code, must start at x(requested) and end at x(healed).
func TestReportShadingSitsAtFaultTime(t *testing.T) {
	r := fakerun.Default(fakerun.T0)
	r.FaultAt, r.HealAt = 12.5, 27.0
	dir := r.Write(t, t.TempDir())
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	page := fakerun.ReadFile(t, dir.File(results.ReportFile))
	xs := longestPath(t, page, svgplot.HexColor(svgplot.ColorOK))
	buckets := float64(r.Seconds) // the workload's last op completes before Seconds
	x0, x1 := xs[0], xs[len(xs)-1]
	if len(xs) != int(buckets) {
		t.Fatalf("throughput line has %d vertices, want %d (one per bucket)", len(xs), int(buckets))
	}
	xOf := func(sec float64) float64 { return x0 + (sec-0.5)*(x1-x0)/(buckets-1) }

	rects := faultRects(t, page)
	if len(rects) != 4 {
		t.Fatalf("found %d fault-window rects, want one per panel (4)", len(rects))
	}
	const tolerance = 1.0 // points
	for _, rc := range rects {
		if rc.from != r.FaultAt || rc.to != r.HealAt {
			t.Errorf("%s: window tagged %v..%v, want %v..%v", rc.plot, rc.from, rc.to, r.FaultAt, r.HealAt)
		}
		if d := math.Abs(rc.x - xOf(r.FaultAt)); d > tolerance {
			t.Errorf("%s: window starts at x=%.2f, fault requested at x=%.2f (off by %.2f pt)", rc.plot, rc.x, xOf(r.FaultAt), d)
		}
		if d := math.Abs(rc.x + rc.w - xOf(r.HealAt)); d > tolerance {
			t.Errorf("%s: window ends at x=%.2f, fault healed at x=%.2f (off by %.2f pt)", rc.plot, rc.x+rc.w, xOf(r.HealAt), d)
		}
	}
}

type rectInfo struct {
	plot           string
	from, to, x, w float64
}

var rectRE = regexp.MustCompile(`<rect class="fault-window" data-plot="([^"]*)" data-fault="\d+" data-from="([\d.]+)" data-to="([\d.]+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"`)

func faultRects(t *testing.T, page string) []rectInfo {
	t.Helper()
	var out []rectInfo
	for _, m := range rectRE.FindAllStringSubmatch(page, -1) {
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		out = append(out, rectInfo{plot: m[1], from: num(m[2]), to: num(m[3]), x: num(m[4]), w: num(m[5])})
	}
	return out
}

var pathRE = regexp.MustCompile(`<path d="([^"]*)"\s*style="[^"]*stroke:(#[0-9a-fA-F]{6})`)

// longestPath returns the x coordinates of the vertices of the longest
// stroked path of a colour.
func longestPath(t *testing.T, page, clr string) []float64 {
	t.Helper()
	var best []float64
	for _, m := range pathRE.FindAllStringSubmatch(page, -1) {
		if !strings.EqualFold(m[2], clr) {
			continue
		}
		var xs []float64
		for _, pt := range regexp.MustCompile(`[ML]([-\d.e]+),`).FindAllStringSubmatch(m[1], -1) {
			x, err := strconv.ParseFloat(pt[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			xs = append(xs, x)
		}
		if len(xs) > len(best) {
			best = xs
		}
	}
	if len(best) < 2 {
		t.Fatalf("no stroked path of colour %s in the page", clr)
	}
	return best
}

func TestWriteReportDegradedRuns(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(t *testing.T, dir results.RunDir)
		want  string
	}{
		{"no history", func(t *testing.T, dir results.RunDir) { removeFile(t, dir.File(results.HistoryFile)) }, "No history was found"},
		{"torn history", func(t *testing.T, dir results.RunDir) {
			appendFile(t, dir.File(results.HistoryFile), `{"index":99999,"pro`)
		}, "torn line"},
		{"no faults", func(t *testing.T, dir results.RunDir) {
			v, _ := results.ReadVerdict(dir.Path)
			v.Faults = nil
			if err := results.WriteVerdict(dir, v); err != nil {
				t.Fatal(err)
			}
		}, "No faults were injected"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := fakerun.Default(fakerun.T0).Write(t, t.TempDir())
			c.spoil(t, dir)
			if err := Write(dir); err != nil {
				t.Fatal(err)
			}
			page := fakerun.ReadFile(t, dir.File(results.ReportFile))
			if !strings.Contains(page, c.want) || !strings.Contains(page, "<svg") {
				t.Errorf("report lacks %q or its plots", c.want)
			}
		})
	}
	if err := Write(results.RunDir{Path: t.TempDir()}); err == nil {
		t.Error("WriteReport without a verdict succeeded")
	}
}

func removeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
