package runreport

import (
	"fmt"
	"html/template"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/hadrill/hadrill/results/internal/svgplot"
)

// Colours of the latency lines, which only the per-run report draws.
var (
	colorP50 = color.NRGBA{R: 31, G: 119, B: 180, A: 255}
	colorP99 = color.NRGBA{R: 148, G: 103, B: 189, A: 255}
)

// nodeColors tells nodes apart (Okabe–Ito, readable by colour-blind
// readers). Node i of the sorted node list gets nodeColors[i%len].
var nodeColors = []color.NRGBA{
	{R: 0, G: 114, B: 178, A: 255},
	{R: 230, G: 159, B: 0, A: 255},
	{R: 0, G: 158, B: 115, A: 255},
	{R: 204, G: 121, B: 167, A: 255},
	{R: 86, G: 180, B: 233, A: 255},
	{R: 213, G: 94, B: 0, A: 255},
	{R: 240, G: 228, B: 66, A: 255},
	{R: 0, G: 0, B: 0, A: 255},
}

// timelineRowHeight is the height of one panel of the timeline.
const timelineRowHeight = vg.Length(190)

// timelinePanel builds one panel of the timeline.
type timelinePanel func(series, []svgplot.Window) (*plot.Plot, *svgplot.Shading, error)

// drawTimeline draws the run's time plots as panels of one SVG, aligned by
// plot.Align so that the data areas share one x mapping: a moment, and a
// fault window, sits at the same x in every panel, and the eye can follow
// a failover down from throughput to latency to the acting primary.
func drawTimeline(s series, ws []svgplot.Window) (template.HTML, error) {
	panels := []timelinePanel{throughputPlot, latencyPlot, outcomesPlot, primaryPlot}
	rows := make([][]*plot.Plot, len(panels))
	var shades []*svgplot.Shading
	for i, build := range panels {
		p, sh, err := build(s, ws)
		if err != nil {
			return "", err
		}
		rows[i] = []*plot.Plot{p}
		shades = append(shades, sh)
	}
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadY: vg.Length(8), PadTop: vg.Length(4),
		PadBottom: vg.Length(4), PadLeft: vg.Length(4), PadRight: vg.Length(8)}
	h := timelineRowHeight * vg.Length(len(rows))
	return svgplot.RenderSVG(svgplot.Width, h, func(c draw.Canvas) {
		canvases := plot.Align(rows, tiles, c)
		for i := range rows {
			rows[i][0].Draw(canvases[i][0])
		}
	}, shades...)
}

// throughputPlot shows ok operations per second.
func throughputPlot(s series, ws []svgplot.Window) (*plot.Plot, *svgplot.Shading, error) {
	p := svgplot.NewTimePlot("Throughput", "ok ops/s", s.End)
	sh := svgplot.AddShading(p, "throughput", ws)
	p.Y.Min = 0
	svgplot.LegendRoom(p, s.perSecond(s.OK))
	err := svgplot.AddLine(p, "ok ops/s", svgplot.ColorOK, s.Centers, s.perSecond(s.OK))
	return p, sh, err
}

// perSecond turns bucket counts into rates.
func (s series) perSecond(counts []float64) []float64 {
	out := make([]float64, len(counts))
	for i, c := range counts {
		out[i] = c / s.Width
	}
	return out
}

// latencyPlot shows p50 and p99 of ok operations per bucket on a log
// scale, because a failover's latencies are orders of magnitude above the
// steady state's and would flatten it on a linear one.
func latencyPlot(s series, ws []svgplot.Window) (*plot.Plot, *svgplot.Shading, error) {
	p := svgplot.NewTimePlot("Latency of ok operations", "ms (log scale)", s.End)
	sh := svgplot.AddShading(p, "latency", ws)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, ys := range [][]float64{s.P50, s.P99} {
		for _, y := range ys {
			if y > 0 {
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
		}
	}
	if hi > 0 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		// The top decade or so is left to the legend.
		p.Y.Min, p.Y.Max = lo/1.5, hi*8
	}
	if err := svgplot.AddLine(p, "p50", colorP50, s.Centers, positive(s.P50)); err != nil {
		return nil, nil, err
	}
	err := svgplot.AddLine(p, "p99", colorP99, s.Centers, positive(s.P99))
	return p, sh, err
}

// positive replaces values a log scale cannot show with gaps.
func positive(ys []float64) []float64 {
	out := make([]float64, len(ys))
	for i, y := range ys {
		out[i] = y
		if !(y > 0) {
			out[i] = math.NaN()
		}
	}
	return out
}

// outcomesPlot shows completions per second by outcome.
func outcomesPlot(s series, ws []svgplot.Window) (*plot.Plot, *svgplot.Shading, error) {
	p := svgplot.NewTimePlot("Outcomes", "completions/s", s.End)
	sh := svgplot.AddShading(p, "outcomes", ws)
	p.Y.Min = 0
	svgplot.LegendRoom(p, s.perSecond(s.OK), s.perSecond(s.Fail), s.perSecond(s.Info))
	for _, l := range []struct {
		name string
		clr  color.Color
		ys   []float64
	}{{"ok", svgplot.ColorOK, s.OK}, {"fail", svgplot.ColorFail, s.Fail}, {"info", svgplot.ColorInfo, s.Info}} {
		if err := svgplot.AddLine(p, l.name, l.clr, s.Centers, s.perSecond(l.ys)); err != nil {
			return nil, nil, err
		}
	}
	return p, sh, nil
}

// primaryPlot shows, per bucket and one row per node, who was primary: the
// nodes that said so when the system was asked (roles.jsonl), or, for runs
// that did not record roles, the nodes that acknowledged writes. One mark
// per bucket is a single primary; two in the same bucket is a failover
// inside that second, or a split brain.
func primaryPlot(s series, ws []svgplot.Window) (*plot.Plot, *svgplot.Shading, error) {
	title, marks := "Nodes acknowledging writes", func(b int, node string) bool { return s.Writers[b][node] > 0 }
	if s.Claims != nil {
		title, marks = "Primary, as the nodes report it", func(b int, node string) bool { return s.Claims[b][node] }
	}
	p := svgplot.NewTimePlot(title, "", s.End)
	sh := svgplot.AddShading(p, "primary", ws)
	ticks := make([]plot.Tick, len(s.Nodes))
	for i, node := range s.Nodes {
		ticks[i] = plot.Tick{Value: float64(i), Label: node}
		var pts plotter.XYs
		for b := range s.Writers {
			if marks(b, node) {
				pts = append(pts, plotter.XY{X: s.Centers[b], Y: float64(i)})
			}
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, nil, fmt.Errorf("plot primary %s: %w", node, err)
		}
		sc.Color = nodeColors[i%len(nodeColors)]
		sc.Shape = draw.BoxGlyph{}
		sc.Radius = vg.Points(3)
		p.Add(sc)
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	// One row above the last node is left to the legend.
	p.Y.Min, p.Y.Max = -0.5, math.Max(float64(len(s.Nodes))+0.3, 1.3)
	return p, sh, nil
}
