// Package svgplot draws the reports' plots as SVG for inlining in HTML:
// gonum plots rendered without an XML prologue, fault windows shaded
// beneath the data and tagged with their times, lines split at gaps, and
// the colours every plot shares. The per-run report and the drill report
// both draw with it.
package svgplot

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Width is the width of every report plot, in points (a vg.Length is one
// point): the reports' pages are laid out for it.
const Width = vg.Length(720)

// Colours of outcomes, shared so that ok, fail and info look the same in
// every plot of every report.
var (
	ColorOK   = color.NRGBA{R: 44, G: 160, B: 44, A: 255}
	ColorFail = color.NRGBA{R: 214, G: 39, B: 40, A: 255}
	ColorInfo = color.NRGBA{R: 255, G: 127, B: 14, A: 255}
)

// shadeColor fills fault windows: translucent, so that the data under them
// stays readable.
var shadeColor = color.NRGBA{R: 214, G: 39, B: 40, A: 40}

// Window is a fault's span on a time plot, in seconds since the run's
// start: from the request to the heal (or to the end of the run when it was
// never healed), as checker's fault windows are.
type Window struct {
	Fault    int
	Label    string
	From, To float64
}

// Shading is a plot.Plotter that marks fault windows. It draws nothing
// through gonum: it records where each window falls in the data area, and
// RenderSVG writes each as a <rect> tagged with the window's times, beneath
// everything else. The tag lets a test (or a reader of the SVG) check that
// the Shading sits at the fault's time.
type Shading struct {
	plot    string // names the plot in the SVG, for readers and tests
	windows []Window
	rects   []shadeRect
}

// shadeRect is a window's rectangle in SVG points, in the flipped
// coordinate system of vgsvg's top group (y grows upwards).
type shadeRect struct {
	Window
	Plot           string
	X0, X1, Y0, Y1 float64
}

// Plot implements plot.Plotter.
func (s *Shading) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	s.rects = s.rects[:0]
	for _, w := range s.windows {
		x0 := math.Max(trX(w.From).Points(), c.Min.X.Points())
		x1 := math.Min(trX(w.To).Points(), c.Max.X.Points())
		if x1 <= x0 {
			continue
		}
		s.rects = append(s.rects, shadeRect{Window: w, Plot: s.plot, X0: x0, X1: x1,
			Y0: c.Min.Y.Points(), Y1: c.Max.Y.Points()})
	}
}

// Thumbnail implements plot.Thumbnailer, for the legend entry.
func (s *Shading) Thumbnail(c *draw.Canvas) {
	c.SetColor(shadeColor)
	c.Fill(c.Rectangle.Path())
}

// AddShading puts fault windows on p, with a legend entry when there are
// any, and returns the plotter for RenderSVG. name tags the rectangles.
func AddShading(p *plot.Plot, name string, ws []Window) *Shading {
	s := &Shading{plot: name, windows: ws}
	p.Add(s)
	if len(ws) > 0 {
		p.Legend.Add("fault window", s)
	}
	return s
}

// RenderSVG draws onto a w×h SVG canvas with paint and returns an SVG
// element fit for inlining in HTML: the XML prologue is dropped and the
// fault windows recorded by the shadings during paint are inserted beneath
// the plots' own drawing.
func RenderSVG(w, h vg.Length, paint func(draw.Canvas), shades ...*Shading) (template.HTML, error) {
	c := vgsvg.New(w, h)
	paint(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("render plot: %w", err)
	}
	out := buf.String()
	if i := strings.Index(out, "<svg"); i >= 0 {
		out = out[i:]
	}
	var rects []shadeRect
	for _, s := range shades {
		rects = append(rects, s.rects...)
	}
	if len(rects) > 0 {
		out = insertShades(out, rects)
	}
	return template.HTML(out), nil
}

// RenderPlot renders one plot; see RenderSVG. A right margin keeps the
// last tick label, which gonum centres on the axis end, inside the image.
func RenderPlot(p *plot.Plot, w, h vg.Length, shades ...*Shading) (template.HTML, error) {
	return RenderSVG(w, h, func(c draw.Canvas) {
		p.Draw(draw.Crop(c, 0, -vg.Length(28), 0, 0))
	}, shades...)
}

// insertShades writes rects right after the opening of vgsvg's flipping
// group, the first element drawn, so they lie under the data.
func insertShades(svg string, rects []shadeRect) string {
	const open = `<g transform="scale(1, -1)`
	i := strings.Index(svg, open)
	if i < 0 {
		return svg
	}
	j := strings.Index(svg[i:], ">")
	if j < 0 {
		return svg
	}
	at := i + j + 1
	var b strings.Builder
	b.WriteString(svg[:at])
	b.WriteString("\n")
	for _, r := range rects {
		fmt.Fprintf(&b, `<rect class="fault-window" data-plot="%s" data-fault="%d" data-from="%.3f" data-to="%.3f" `+
			`x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s" fill-opacity="%.3f">`+
			`<title>%s</title></rect>`+"\n",
			html.EscapeString(r.Plot), r.Fault, r.From, r.To, r.X0, r.Y0, r.X1-r.X0, r.Y1-r.Y0,
			HexColor(shadeColor), float64(shadeColor.A)/255, html.EscapeString(r.Label))
	}
	b.WriteString(svg[at:])
	return b.String()
}

// HexColor is an opaque colour's SVG notation, as the plots write it, so
// that a reader of the SVG (or a test) can find a series by its colour.
func HexColor(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// NewTimePlot starts a plot over [0, end] seconds of a run, with the common
// styling of the per-run report.
func NewTimePlot(title, ylabel string, end float64) *plot.Plot {
	p := plot.New()
	// No background fill: the page is white, and a fill would hide the
	// fault windows that RenderSVG places beneath the plot.
	p.BackgroundColor = nil
	p.Title.Text = title
	p.X.Label.Text = "seconds since start"
	p.Y.Label.Text = ylabel
	p.X.Min, p.X.Max = 0, end
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Length(8)
	p.Add(plotter.NewGrid())
	return p
}

// LegendRoom raises a linear y axis so the legend, top right, does not
// cover the data: the top share of the plot is left to it.
func LegendRoom(p *plot.Plot, ys ...[]float64) {
	hi := 0.0
	for _, y := range ys {
		for _, v := range y {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				hi = max(hi, v)
			}
		}
	}
	if hi > 0 {
		p.Y.Max = hi * 1.45
	}
}

// segments splits a series at NaN values, so that a line has gaps where
// there was nothing to measure instead of bridging them.
func segments(xs, ys []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range xs {
		if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: xs[i], Y: ys[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// AddLine adds a series as one line, split at gaps, with one legend entry.
func AddLine(p *plot.Plot, name string, clr color.Color, xs, ys []float64) error {
	var first *plotter.Line
	for _, seg := range segments(xs, ys) {
		l, pts, err := plotter.NewLinePoints(seg)
		if err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		l.Color, l.Width = clr, vg.Points(1.2)
		p.Add(l)
		if len(seg) == 1 {
			// A lone value has no line to draw: mark it.
			pts.Color, pts.Radius = clr, vg.Points(1.5)
			p.Add(pts)
		}
		if first == nil {
			first = l
		}
	}
	if first != nil {
		p.Legend.Add(name, first)
	}
	return nil
}
