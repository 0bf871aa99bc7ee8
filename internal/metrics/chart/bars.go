package chart

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// barColor is the funnel's bars' colour.
var barColor = color.RGBA{R: 0x4E, G: 0x79, B: 0xA7, A: 0xFF}

// Bars draws a funnel: one bar per step label with its value written on it, in order.
//
// Bars stand on zero, left to right in the labels' order. A value is written with at most two decimals
// (1234, 12.5, 0.33): inside the top of its bar when the bar is tall enough, else just beyond its end. No
// labels give a "no data" chart.
func Bars(w io.Writer, format, title string, labels []string, values []float64) error {
	if err := checkFormat(format); err != nil {
		return err
	}
	if len(values) != len(labels) {
		return fmt.Errorf("bars: %d values for %d labels", len(values), len(labels))
	}
	if len(labels) == 0 {
		return noData(w, format, title)
	}
	lo, hi := 0.0, 0.0
	for i, v := range values {
		if !finite(v) {
			return fmt.Errorf("bars step %q: value %v is not a finite number", labels[i], v)
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo == hi {
		hi = lo + 1
	}

	p := newPlot(title)
	// Headroom beyond the longest bars for the labels written past their ends.
	p.Y.Min, p.Y.Max = lo-(hi-lo)*0.08*b2f(lo < 0), hi+(hi-lo)*0.08
	p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	p.X.Padding = 0
	p.X.Width = 0
	p.X.Tick.Length = 0
	p.X.Tick.Label.Font.Size = 10
	p.X.Tick.Marker = labelTicks{labels: labels, step: 1}

	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal = draw.LineStyle{Color: gridColor, Width: vg.Points(0.5)}
	p.Add(grid, &bars{values: values})

	return render(w, format, func(c draw.Canvas) { paintPlot(p, c) })
}

// b2f returns 1 for true and 0 for false.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// bars is the plotter of the funnel's bars and their values.
type bars struct {
	values []float64
}

// Plot draws each value as a bar from zero with the value written at its end.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	x, y := p.Transforms(&c)
	const half = 0.35 // half a bar's width, in places
	sty := textStyle(bold, 10, color.White, draw.XCenter, draw.YTop)
	pad := vg.Points(4)
	for i, v := range b.values {
		x0, x1 := x(float64(i)-half), x(float64(i)+half)
		y0, y1 := y(0), y(v)
		c.FillPolygon(barColor, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})

		label := formatNumber(v)
		at := vg.Point{X: x(float64(i)), Y: y1}
		s := sty
		inside := max(y1-y0, y0-y1) >= s.Height(label)+2*pad
		switch {
		case v >= 0 && inside:
			at.Y -= pad
		case v >= 0:
			at.Y += pad
			s.Color, s.YAlign = color.Black, draw.YBottom
		case inside:
			at.Y += pad
			s.YAlign = draw.YBottom
		default:
			at.Y -= pad
			s.Color = color.Black
		}
		c.FillText(s, at, label)
	}
}
