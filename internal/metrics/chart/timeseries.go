package chart

import (
	"cmp"
	"fmt"
	"image/color"
	"io"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// seriesColors are the lines' colours in series order (Tableau 10); past ten series they repeat dashed.
var seriesColors = []color.RGBA{
	{R: 0x4E, G: 0x79, B: 0xA7, A: 0xFF},
	{R: 0xF2, G: 0x8E, B: 0x2B, A: 0xFF},
	{R: 0xE1, G: 0x57, B: 0x59, A: 0xFF},
	{R: 0x76, G: 0xB7, B: 0xB2, A: 0xFF},
	{R: 0x59, G: 0xA1, B: 0x4F, A: 0xFF},
	{R: 0xED, G: 0xC9, B: 0x48, A: 0xFF},
	{R: 0xB0, G: 0x7A, B: 0xA1, A: 0xFF},
	{R: 0xFF, G: 0x9D, B: 0xA7, A: 0xFF},
	{R: 0x9C, G: 0x75, B: 0x5F, A: 0xFF},
	{R: 0xBA, G: 0xB0, B: 0xAC, A: 0xFF},
}

// seriesStyle returns the line style of the i-th series.
func seriesStyle(i int) draw.LineStyle {
	sty := draw.LineStyle{Color: seriesColors[i%len(seriesColors)], Width: vg.Points(1.75)}
	if round := i / len(seriesColors); round > 0 {
		sty.Dashes = []vg.Length{vg.Points(float64(2 + 2*round)), vg.Points(2)}
	}
	return sty
}

// civilDay returns t's calendar day, in t's own location, as days since 1970-01-01.
func civilDay(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// dayLabel writes a day number of civilDay as YYYY-MM-DD.
func dayLabel(day int64) string {
	return time.Unix(day*86400, 0).UTC().Format(time.DateOnly)
}

// TimeSeries draws one or more lines over days (x: dates, labelled YYYY-MM-DD; y: the unit), with a legend
// when there are several series. A point's day is its calendar day in its own location. Null points break a
// line; a value with no neighbour on either side is drawn as a dot. The x axis spans every day from the
// first to the last and labels each day when the labels fit, else every k-th day from the first (k one of
// 2, 3, 7, 14 or a multiple of 28). Zero series, or only Null points, give a "no data" chart.
func TimeSeries(w io.Writer, format, title, unit string, series []Series) error {
	if err := checkFormat(format); err != nil {
		return err
	}
	first, last := int64(0), int64(0)
	ymin, ymax := 0.0, 0.0
	values := 0
	for _, s := range series {
		for _, pt := range s.Points {
			if pt.Null {
				continue
			}
			if !finite(pt.Value) {
				return fmt.Errorf("series %q day %s: value %v is not a finite number (mark a missing value Null)",
					s.Name, pt.Day.Format(time.DateOnly), pt.Value)
			}
			d := civilDay(pt.Day)
			if values == 0 || d < first {
				first = d
			}
			if values == 0 || d > last {
				last = d
			}
			ymin, ymax = min(ymin, pt.Value), max(ymax, pt.Value)
			values++
		}
	}
	if values == 0 {
		return noData(w, format, title)
	}

	p := newPlot(title)
	p.Y.Label.Text = unit
	if ymax == ymin {
		ymax = ymin + 1
	}
	p.Y.Min, p.Y.Max = ymin, ymax+(ymax-ymin)*0.05
	days := make([]string, last-first+1)
	for i := range days {
		days[i] = dayLabel(first + int64(i))
	}
	p.X.Min, p.X.Max = -0.5, float64(len(days))-0.5
	p.X.Padding = 0

	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal = draw.LineStyle{Color: gridColor, Width: vg.Points(0.5)}
	p.Add(grid)

	lines := make([]*line, len(series))
	for i, s := range series {
		lines[i] = newLine(s, first, seriesStyle(i))
		p.Add(lines[i])
	}

	// The legend stands right of the plot, below the title, not over the lines.
	legend := plot.NewLegend()
	legend.TextStyle.Font = font.From(sans, 10)
	legend.Top, legend.Left = true, true
	legend.ThumbnailWidth = vg.Points(16)
	var legendWidth vg.Length
	if len(series) > 1 {
		for i, s := range series {
			legend.Add(s.Name, lines[i])
		}
		legendWidth = legend.Rectangle(draw.Canvas{}).Size().X + vg.Points(12)
	}
	// Room for the x labels: the plot's width less the margins, the y axis and the legend.
	room := width - vg.Points(20) - vg.Points(70) - legendWidth
	p.X.Tick.Marker = labelTicks{labels: days, step: niceDayStep(labelStep(p.X.Tick.Label, days, room, false)),
		minor: len(days) <= 120}

	return render(w, format, func(c draw.Canvas) {
		c = pad(c)
		if legendWidth == 0 {
			p.Draw(c)
			return
		}
		title := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
		legend.Draw(draw.Crop(c, c.Size().X-legendWidth+vg.Points(12), 0, 0, -title))
		c.Max.X -= legendWidth
		p.Draw(c)
	})
}

// niceDayStep rounds a label step in days up to 1, 2, 3, 7, 14 or a multiple of 28.
func niceDayStep(step int) int {
	for _, s := range []int{1, 2, 3, 7, 14} {
		if step <= s {
			return s
		}
	}
	return (step + 27) / 28 * 28
}

// line is the plotter of one series: its runs of consecutive non-Null points as polylines, and a dot for
// each point that is a run of its own.
type line struct {
	style draw.LineStyle
	runs  [][]plotter.XY
}

// newLine returns the plotter of s, with x as days since first, in a line style.
func newLine(s Series, first int64, style draw.LineStyle) *line {
	pts := slices.Clone(s.Points)
	slices.SortStableFunc(pts, func(a, b Point) int { return cmp.Compare(civilDay(a.Day), civilDay(b.Day)) })
	l := &line{style: style}
	var run []plotter.XY
	for _, pt := range pts {
		if pt.Null {
			if len(run) > 0 {
				l.runs = append(l.runs, run)
				run = nil
			}
			continue
		}
		run = append(run, plotter.XY{X: float64(civilDay(pt.Day) - first), Y: pt.Value})
	}
	if len(run) > 0 {
		l.runs = append(l.runs, run)
	}
	return l
}

// Plot draws the line's runs on c.
func (l *line) Plot(c draw.Canvas, p *plot.Plot) {
	x, y := p.Transforms(&c)
	for _, run := range l.runs {
		if len(run) == 1 {
			dot := draw.GlyphStyle{Color: l.style.Color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
			c.DrawGlyph(dot, vg.Point{X: x(run[0].X), Y: y(run[0].Y)})
			continue
		}
		pts := make([]vg.Point, len(run))
		for i, v := range run {
			pts[i] = vg.Point{X: x(v.X), Y: y(v.Y)}
		}
		c.StrokeLines(l.style, pts)
	}
}

// Thumbnail draws the line's legend sample: a short bar of its colour across the middle of c, filled rather
// than stroked so that the only strokes of a series' colour are its line.
func (l *line) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	h := vg.Points(1.5)
	c.FillPolygon(l.style.Color, []vg.Point{{X: c.Min.X, Y: y - h}, {X: c.Max.X, Y: y - h}, {X: c.Max.X, Y: y + h}, {X: c.Min.X, Y: y + h}})
}
