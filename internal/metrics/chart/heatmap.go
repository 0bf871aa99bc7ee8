package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Heatmap draws a cohort triangle: rows are cohort days (top to bottom), columns are the day-N labels (e.g.
// "D1","D7","D30"), values[r][c] nil = empty cell (not yet observable); each filled cell is coloured by value
// (0..1 for retention) and labelled with the value as a percentage with one decimal ("42.9%").
//
// Colours run from pale to dark blue over 0..1, widened to take in values outside it, by the square root of
// a value's place in that range so that small retention values stay apart. Row labels are thinned, from the
// top row on, when there are more rows than fit. No rows, no columns or only nil values give a "no data" chart.
func Heatmap(w io.Writer, format, title string, rows, cols []string, values [][]*float64) error {
	if err := checkFormat(format); err != nil {
		return err
	}
	if len(values) != len(rows) {
		return fmt.Errorf("heatmap: %d rows of values for %d row labels", len(values), len(rows))
	}
	lo, hi := 0.0, 1.0
	filled := 0
	for r, row := range values {
		if len(row) != len(cols) {
			return fmt.Errorf("heatmap row %d (%q): %d values for %d column labels", r, rows[r], len(row), len(cols))
		}
		for c, v := range row {
			if v == nil {
				continue
			}
			if !finite(*v) {
				return fmt.Errorf("heatmap row %q column %q: value %v is not a finite number", rows[r], cols[c], *v)
			}
			lo, hi = min(lo, *v), max(hi, *v)
			filled++
		}
	}
	if filled == 0 {
		return noData(w, format, title)
	}

	p := newPlot(title)
	p.X.Min, p.X.Max = -0.5, float64(len(cols))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(rows))-0.5
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Padding = 0
		a.Width = 0
		a.Tick.Length = 0
	}
	p.X.Tick.Marker = labelTicks{labels: cols, step: 1}
	// The y axis runs upwards, the rows downwards: row r is at y = len(rows)-1-r.
	up := make([]string, len(rows))
	for r, l := range rows {
		up[len(rows)-1-r] = l
	}
	// Room for the row labels: the chart's height less the margins, the title and the x axis.
	room := height - vg.Points(20) - vg.Points(30) - vg.Points(20)
	p.Y.Tick.Marker = labelTicks{labels: up, step: labelStep(p.Y.Tick.Label, up, room, true), anchor: len(up) - 1}
	p.Add(&cells{values: values, lo: lo, hi: hi})

	return render(w, format, func(c draw.Canvas) { paintPlot(p, c) })
}

// cells is the plotter of the heat map's filled cells.
type cells struct {
	values [][]*float64
	lo, hi float64
}

// Plot draws each non-nil value as a coloured rectangle with its percentage in the middle.
func (h *cells) Plot(c draw.Canvas, p *plot.Plot) {
	x, y := p.Transforms(&c)
	rows := len(h.values)
	cols := len(h.values[0])
	cellW, cellH := c.Size().X/vg.Length(cols), c.Size().Y/vg.Length(rows)
	// The label's size: 10 points or less, to fit the cell with a little room.
	size := min(vg.Points(10), cellH*0.6)
	if w := textStyle(sans, size, color.Black, draw.XCenter, draw.YCenter).Width("100.0%"); w > cellW-vg.Points(4) {
		size = max(size*(cellW-vg.Points(4))/w, vg.Points(1))
	}
	const gap = vg.Length(1)
	for r, row := range h.values {
		cy := float64(rows - 1 - r)
		for col, v := range row {
			if v == nil {
				continue
			}
			cx := float64(col)
			x0, x1 := x(cx-0.5)+gap, x(cx+0.5)-gap
			y0, y1 := y(cy-0.5)+gap, y(cy+0.5)-gap
			fill := cellColor(*v, h.lo, h.hi)
			c.FillPolygon(fill, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			sty := textStyle(sans, size, inkOn(fill), draw.XCenter, draw.YCenter)
			c.FillText(sty, vg.Point{X: x(cx), Y: y(cy)}, formatPercent(*v))
		}
	}
}

// heatStops are the heat map's colours at 0, ½ and 1 of the scale (ColorBrewer's Blues).
var heatStops = [3]color.RGBA{
	{R: 0xF7, G: 0xFB, B: 0xFF, A: 0xFF},
	{R: 0x6B, G: 0xAE, B: 0xD6, A: 0xFF},
	{R: 0x08, G: 0x30, B: 0x6B, A: 0xFF},
}

// cellColor returns the colour of value v on the scale lo..hi: the square root of v's place on the scale,
// between the stops of heatStops.
func cellColor(v, lo, hi float64) color.RGBA {
	t := math.Sqrt(math.Min(math.Max((v-lo)/(hi-lo), 0), 1))
	a, b := heatStops[0], heatStops[1]
	t *= 2
	if t > 1 {
		a, b, t = heatStops[1], heatStops[2], t-1
	}
	mix := func(p, q uint8) uint8 { return uint8(math.Round(float64(p) + (float64(q)-float64(p))*t)) }
	return color.RGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 0xFF}
}

// inkOn returns the text colour that reads on a background: white on dark, near black on light.
func inkOn(bg color.RGBA) color.Color {
	lum := 0.2126*float64(bg.R) + 0.7152*float64(bg.G) + 0.0722*float64(bg.B)
	if lum < 140 {
		return color.White
	}
	return color.RGBA{R: 0x22, G: 0x22, B: 0x22, A: 0xFF}
}
