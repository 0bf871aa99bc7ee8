// Package chart draws the charts of Big Father's metrics (`bigfather metrics show NAME --format svg|png`): a
// time series of daily values, retention's cohort triangle as a heat map, and a funnel's steps as bars.
//
// Every chart is 800×400 pixels: a PNG is exactly that at 96 dpi, an SVG has the same logical size (600×300
// points). Output is deterministic, the same input giving the same bytes, so charts can be diffed. Input with
// nothing to draw gives a chart with its title and the text "no data" rather than an error. Drawing uses
// gonum.org/v1/plot with its vgsvg and vgimg backends and the Liberation Sans font, which SVG files name
// without embedding it.
package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Point is one value of a series at a day; Null leaves a gap in the line.
type Point struct {
	Day   time.Time
	Value float64
	Null  bool
}

// Series is one line.
type Series struct {
	Name   string
	Points []Point
}

// Formats a chart can be written in.
const (
	FormatSVG = "svg"
	FormatPNG = "png"
)

// The chart's size: 800×400 pixels at 96 dpi, which is 600×300 points.
const (
	dpi         = 96
	widthPixels = 800
	heightPixel = 400
	width       = vg.Length(widthPixels) * vg.Inch / dpi
	height      = vg.Length(heightPixel) * vg.Inch / dpi
)

// checkFormat returns the error for a format other than svg or png.
func checkFormat(format string) error {
	if format != FormatSVG && format != FormatPNG {
		return fmt.Errorf("chart format %q: expected svg or png", format)
	}
	return nil
}

// render draws a chart with paint on a new canvas of the chart's size and writes it to w in format, which
// checkFormat has accepted.
func render(w io.Writer, format string, paint func(c draw.Canvas)) error {
	var c vg.CanvasWriterTo
	switch format {
	case FormatSVG:
		c = vgsvg.New(width, height)
	case FormatPNG:
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))}
	default:
		return checkFormat(format)
	}
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	paint(dc)
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("writing %s chart: %w", format, err)
	}
	return nil
}

// Text styles: Liberation Sans, black unless said otherwise.
var (
	sans = font.Font{Typeface: "Liberation", Variant: "Sans"}
	bold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
)

// textStyle returns a text style of f at size points, aligned by x and y.
func textStyle(f font.Font, size vg.Length, clr color.Color, x draw.XAlignment, y draw.YAlignment) text.Style {
	return text.Style{
		Color:   clr,
		Font:    font.From(f, size),
		XAlign:  x,
		YAlign:  y,
		Handler: plot.DefaultTextHandler,
	}
}

// Colours shared by the charts.
var (
	gridColor  = color.RGBA{R: 0xDD, G: 0xDD, B: 0xDD, A: 0xFF}
	mutedColor = color.RGBA{R: 0x77, G: 0x77, B: 0x77, A: 0xFF}
	axisColor  = color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xFF}
)

// newPlot returns a plot titled title with the charts' fonts and axis styles.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil // render paints the whole canvas white
	p.Title.Text = title
	p.Title.TextStyle = textStyle(bold, 14, color.Black, draw.XCenter, draw.YTop)
	p.Title.Padding = vg.Points(8)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 9)
		a.Color = axisColor
		a.Tick.Color = axisColor
		a.Tick.Length = vg.Points(4)
	}
	p.Legend.TextStyle.Font = font.From(sans, 10)
	return p
}

// paintPlot draws p on c with a margin around it.
func paintPlot(p *plot.Plot, c draw.Canvas) {
	p.Draw(pad(c))
}

// pad returns c less the margin the charts keep free at each edge.
func pad(c draw.Canvas) draw.Canvas {
	const m = vg.Length(10)
	return draw.Crop(c, m, -m, m, -m)
}

// noData draws the chart that has nothing to show: the title and the words "no data" in its middle.
func noData(w io.Writer, format, title string) error {
	p := newPlot(title)
	p.HideAxes()
	p.Add(noDataText{})
	return render(w, format, func(c draw.Canvas) { paintPlot(p, c) })
}

// noDataText is the plotter of the text "no data".
type noDataText struct{}

// Plot draws "no data" in the middle of c.
func (noDataText) Plot(c draw.Canvas, _ *plot.Plot) {
	c.FillText(textStyle(sans, 16, mutedColor, draw.XCenter, draw.YCenter), c.Center(), "no data")
}

// formatNumber writes v with at most two decimals and no trailing zeros: 1234, 12.5, 0.33.
func formatNumber(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// formatPercent writes a ratio as a percentage with one decimal: 0.4286 is "42.9%".
func formatPercent(v float64) string {
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}

// labelTicks marks labels[i] at i, showing every step-th label counted from labels[anchor]; the others get
// minor ticks when minor is set, else none.
type labelTicks struct {
	labels []string
	step   int
	anchor int
	minor  bool
}

// Ticks returns the ticks of the labels.
func (t labelTicks) Ticks(_, _ float64) []plot.Tick {
	step := max(t.step, 1)
	var ticks []plot.Tick
	for i, l := range t.labels {
		switch {
		case (i-t.anchor)%step == 0:
			ticks = append(ticks, plot.Tick{Value: float64(i), Label: l})
		case t.minor:
			ticks = append(ticks, plot.Tick{Value: float64(i)})
		}
	}
	return ticks
}

// labelStep returns how many places apart labels of style sty must be so that labels fit side by side in
// room; room is a width for labels laid out horizontally, or a height when vertical is set.
func labelStep(sty text.Style, labels []string, room vg.Length, vertical bool) int {
	if len(labels) == 0 || room <= 0 {
		return 1
	}
	var size vg.Length
	for _, l := range labels {
		s := sty.Width(l) + vg.Points(8)
		if vertical {
			s = sty.Height(l) + vg.Points(2)
		}
		size = max(size, s)
	}
	fit := int(room / size)
	if fit < 1 {
		fit = 1
	}
	return (len(labels) + fit - 1) / fit
}
