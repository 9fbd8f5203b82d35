package results

import (
	"fmt"
	"html/template"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/hadrill/hadrill/checker"
)

// trendHeight is the height of a scenario's trend plot.
const trendHeight = vg.Length(230)

// trendPlot draws a scenario's RTO per run against the run's start time,
// marked by verdict, with the RTO target when the runs share one. A run
// that never recovered is drawn above the highest finite RTO with its own
// mark, because its RTO has no value to plot. Runs without an RTO sit on
// the x axis, so that their verdict still shows.
func trendPlot(s ScenarioDrill) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = "RTO per run: " + s.Scenario
	p.X.Label.Text = "run start (UTC)"
	p.Y.Label.Text = "RTO seconds"
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Length(8)
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = plot.TimeTicks{Format: timeTickFormat(s.Runs),
		Time: func(t float64) time.Time { return time.Unix(int64(t), 0).UTC() }}

	top := 1.0
	for _, r := range s.Runs {
		if v, ok := runRTO(r.Verdict); ok && !math.IsInf(v, 1) {
			top = math.Max(top, v)
		}
	}
	target := commonRTOTarget(s.Runs)
	if target != nil {
		top = math.Max(top, *target)
	}
	ceiling := top * 1.15
	for _, g := range trendGroups {
		var pts plotter.XYs
		for _, r := range s.Runs {
			v, ok := runRTO(r.Verdict)
			if trendGroup(r.Verdict.Verdict, v) != g.name {
				continue
			}
			y := v
			switch {
			case !ok:
				y = 0
			case math.IsInf(v, 1):
				y = ceiling
			}
			pts = append(pts, plotter.XY{X: float64(r.Verdict.Started.Unix()), Y: y})
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return "", fmt.Errorf("plot trend of %s: %w", s.Scenario, err)
		}
		sc.Color, sc.Shape, sc.Radius = g.clr, g.shape, vg.Points(3.5)
		p.Add(sc)
		p.Legend.Add(g.name, sc)
	}
	if target != nil {
		addTargetLine(p, *target, s.Runs)
	}
	p.Y.Min, p.Y.Max = 0, ceiling*1.35 // room for the legend
	padTimeAxis(p, s.Runs)
	return renderPlot(p, plotWidth, trendHeight)
}

// trendGroups are the trend plot's marks, one per kind of run.
var trendGroups = []struct {
	name  string
	clr   color.Color
	shape draw.GlyphDrawer
}{
	{"pass", colorOK, draw.CircleGlyph{}},
	{"fail", colorFail, draw.BoxGlyph{}},
	{"unknown", colorInfo, draw.RingGlyph{}},
	{"unbounded RTO (drawn at top)", colorFail, draw.TriangleGlyph{}},
}

// trendGroup names the mark of a run with verdict r and RTO v.
func trendGroup(r checker.Result, v float64) string {
	switch {
	case math.IsInf(v, 1):
		return trendGroups[3].name
	case r == checker.Pass:
		return "pass"
	case r == checker.Fail:
		return "fail"
	}
	return "unknown"
}

// commonRTOTarget is the RTO target when every run that has one agrees.
func commonRTOTarget(runs []Run) *float64 {
	var t *float64
	for _, r := range runs {
		c, ok := r.Verdict.Checks[checker.CheckRTO]
		if !ok || c.Target == nil {
			continue
		}
		if t != nil && *t != *c.Target {
			return nil
		}
		t = c.Target
	}
	return t
}

// addTargetLine draws the target as a dashed horizontal line.
func addTargetLine(p *plot.Plot, target float64, runs []Run) {
	x0 := float64(runs[0].Verdict.Started.Unix())
	x1 := float64(runs[len(runs)-1].Verdict.Started.Unix())
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: target}, {X: x1, Y: target}})
	if err != nil {
		return
	}
	l.Color, l.Dashes = color.Gray{Y: 90}, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(l)
	p.Legend.Add(fmt.Sprintf("target %g s", target), l)
}

// padTimeAxis widens the x range a little past the first and last run, and
// to at least an hour, so a single run is not drawn on the frame.
func padTimeAxis(p *plot.Plot, runs []Run) {
	x0 := float64(runs[0].Verdict.Started.Unix())
	x1 := float64(runs[len(runs)-1].Verdict.Started.Unix())
	pad := math.Max((x1-x0)*0.05, 1800)
	p.X.Min, p.X.Max = x0-pad, x1+pad
}

// timeTickFormat picks a tick label format for the runs' time span.
func timeTickFormat(runs []Run) string {
	span := runs[len(runs)-1].Verdict.Started.Sub(runs[0].Verdict.Started)
	switch {
	case span < 48*time.Hour:
		return "01-02 15:04"
	case span < 400*24*time.Hour:
		return "2006-01-02"
	}
	return "2006-01"
}
