package chart

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// svgDoc is what a user sees of an SVG chart: its size, its texts in document order, and its paths.
type svgDoc struct {
	width, height string
	texts         []svgText
	paths         []svgPath
}

type svgText struct {
	text string
	x    float64
	bold bool
}

type svgPath struct {
	d     string
	style map[string]string
}

// parseSVG reads an SVG chart with encoding/xml.
func parseSVG(t *testing.T, b []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	dec := xml.NewDecoder(bytes.NewReader(b))
	var inText *svgText
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parsing SVG: %v\n%s", err, b)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Name.Local] = a.Value
			}
			switch tok.Name.Local {
			case "svg":
				doc.width, doc.height = attrs["width"], attrs["height"]
			case "text":
				x, err := strconv.ParseFloat(attrs["x"], 64)
				if err != nil {
					t.Fatalf("text x %q: %v", attrs["x"], err)
				}
				inText = &svgText{x: x, bold: strings.Contains(attrs["style"], "font-weight:bold")}
			case "path":
				p := svgPath{d: attrs["d"], style: map[string]string{}}
				for _, kv := range strings.Split(attrs["style"], ";") {
					if k, v, ok := strings.Cut(kv, ":"); ok {
						p.style[k] = v
					}
				}
				doc.paths = append(doc.paths, p)
			}
		case xml.CharData:
			if inText != nil {
				inText.text += string(tok)
			}
		case xml.EndElement:
			if tok.Name.Local == "text" && inText != nil {
				doc.texts = append(doc.texts, *inText)
				inText = nil
			}
		}
	}
	return doc
}

// textList returns the document's texts in order.
func (d svgDoc) textList() []string {
	var out []string
	for _, t := range d.texts {
		out = append(out, t.text)
	}
	return out
}

// count returns how many texts read s exactly.
func (d svgDoc) count(s string) int {
	n := 0
	for _, t := range d.texts {
		if t.text == s {
			n++
		}
	}
	return n
}

// strokes returns the paths stroked in colour hex (#RRGGBB).
func (d svgDoc) strokes(hex string) []svgPath {
	var out []svgPath
	for _, p := range d.paths {
		if p.style["stroke"] == hex {
			out = append(out, p)
		}
	}
	return out
}

// fills returns the paths filled in colour hex; vgsvg leaves the fill of black unwritten.
func (d svgDoc) fills(hex string) []svgPath {
	var out []svgPath
	for _, p := range d.paths {
		if f, ok := p.style["fill"]; ok && f == hex {
			out = append(out, p)
		}
	}
	return out
}

// polylinePoints counts the points of a path made of M and L commands only, as vgsvg writes a polyline.
func polylinePoints(t *testing.T, d string) int {
	t.Helper()
	n := 0
	for _, r := range d {
		switch {
		case r == 'M' || r == 'L':
			n++
		case strings.ContainsRune("0123456789.,-e+", r):
		default:
			t.Fatalf("path %q: %q is not a polyline command", d, r)
		}
	}
	return n
}

func hex(c interface{ RGBA() (r, g, b, a uint32) }) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8)
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// days returns Points for n consecutive days from first with values v(i); null(i) marks Nulls.
func days(first string, n int, v func(i int) float64, null func(i int) bool) []Point {
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{Day: day(first).AddDate(0, 0, i), Value: v(i), Null: null != nil && null(i)}
	}
	return pts
}

func svg(t *testing.T, draw func(w io.Writer) error) svgDoc {
	t.Helper()
	var b bytes.Buffer
	if err := draw(&b); err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, b.Bytes())
	// 600×300 points is 800×400 CSS pixels, the PNG's size.
	if doc.width != "600pt" || doc.height != "300pt" {
		t.Errorf("SVG size %s×%s, want 600pt×300pt", doc.width, doc.height)
	}
	return doc
}

func TestTimeSeriesSVG(t *testing.T) {
	seoul := time.FixedZone("KST", 9*3600)
	tests := []struct {
		name   string
		series []Series
		labels []string // x labels, in order
		// points[i] is the number of non-null values of series i; dots[i] how many of them stand alone.
		points []int
		dots   []int
		legend bool
	}{
		{
			name:   "one series",
			series: []Series{{Name: "dau", Points: days("2026-03-01", 5, func(i int) float64 { return float64(100 + 10*i) }, nil)}},
			labels: []string{"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"},
			points: []int{5},
			dots:   []int{0},
		},
		{
			name: "nulls break the line",
			// Runs: days 0-1, day 3 alone, days 5-6.
			series: []Series{{Name: "arpdau", Points: days("2026-03-01", 7, func(i int) float64 { return 0.5 + float64(i)/10 },
				func(i int) bool { return i == 2 || i == 4 })}},
			labels: []string{"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07"},
			points: []int{5},
			dots:   []int{1},
		},
		{
			name: "two series with a legend, given out of order",
			series: []Series{
				{Name: "revenue EUR", Points: []Point{
					{Day: day("2026-03-03"), Value: 30}, {Day: day("2026-03-01"), Value: 10}, {Day: day("2026-03-02"), Value: 20},
				}},
				{Name: "revenue USD", Points: days("2026-03-02", 2, func(i int) float64 { return 5 }, nil)},
			},
			labels: []string{"2026-03-01", "2026-03-02", "2026-03-03"},
			points: []int{3, 2},
			dots:   []int{0, 0},
			legend: true,
		},
		{
			name: "days are local days of their zone",
			series: []Series{{Name: "dau", Points: []Point{
				{Day: time.Date(2026, 3, 1, 0, 0, 0, 0, seoul), Value: 1}, // 2026-02-28 in UTC
				{Day: time.Date(2026, 3, 2, 0, 0, 0, 0, seoul), Value: 2},
			}}},
			labels: []string{"2026-03-01", "2026-03-02"},
			points: []int{2},
			dots:   []int{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := svg(t, func(w io.Writer) error { return TimeSeries(w, "svg", "Daily active users", "players", tt.series) })
			texts := doc.textList()
			if doc.count("Daily active users") != 1 || doc.count("players") != 1 {
				t.Errorf("title or unit missing from %q", texts)
			}
			var xLabels []string
			for _, s := range texts {
				if len(s) == 10 && s[4] == '-' && s[7] == '-' {
					xLabels = append(xLabels, s)
				}
			}
			if !slices.Equal(xLabels, tt.labels) {
				t.Errorf("x labels %q, want %q", xLabels, tt.labels)
			}
			for i, s := range tt.series {
				color := hex(seriesColors[i])
				points := 0
				for _, p := range doc.strokes(color) {
					points += polylinePoints(t, p.d)
				}
				dots := 0
				for _, p := range doc.fills(color) {
					if strings.Contains(p.d, "A") {
						dots++
					}
				}
				if points+dots != tt.points[i] || dots != tt.dots[i] {
					t.Errorf("series %q: %d line points and %d dots, want %d values of which %d dots",
						s.Name, points, dots, tt.points[i], tt.dots[i])
				}
				if got := doc.count(s.Name); tt.legend != (got == 1) {
					t.Errorf("series %q appears %d times in the texts; legend wanted: %v", s.Name, got, tt.legend)
				}
			}
		})
	}
}

// A long range labels every k-th day from the first, k a round number of days, so the labels do not collide.
func TestTimeSeriesThinsDayLabels(t *testing.T) {
	series := []Series{{Name: "dau", Points: days("2026-01-01", 90, func(i int) float64 { return float64(i % 7) }, nil)}}
	doc := svg(t, func(w io.Writer) error { return TimeSeries(w, "svg", "dau", "players", series) })
	var labelled []int
	var xs []float64
	for _, tx := range doc.texts {
		if d, err := time.Parse(time.DateOnly, tx.text); err == nil {
			labelled = append(labelled, int(d.Sub(day("2026-01-01")).Hours()/24))
			xs = append(xs, tx.x)
		}
	}
	if len(labelled) < 4 || labelled[0] != 0 {
		t.Fatalf("labelled days %v: want at least 4 from the first day", labelled)
	}
	k := labelled[1] - labelled[0]
	if !slices.Contains([]int{2, 3, 7, 14}, k) && k%28 != 0 {
		t.Errorf("label step %d days, want 2, 3, 7, 14 or a multiple of 28", k)
	}
	for i := range labelled {
		if labelled[i] != i*k {
			t.Fatalf("labelled days %v: not every %d-th day from the first", labelled, k)
		}
	}
	if last := labelled[len(labelled)-1]; 89-last >= k {
		t.Errorf("last label on day %d of 0..89 with step %d", last, k)
	}
	// Labels are about 45 points wide at 9 points; centres further apart than that do not collide.
	for i := 1; i < len(xs); i++ {
		if xs[i]-xs[i-1] < 50 {
			t.Errorf("labels %d and %d only %.1f points apart", labelled[i-1], labelled[i], xs[i]-xs[i-1])
		}
	}
}

func ptr(v float64) *float64 { return &v }

func TestHeatmapSVG(t *testing.T) {
	rows := []string{"2026-03-01", "2026-03-02", "2026-03-03"}
	cols := []string{"D1", "D7", "D30"}
	values := [][]*float64{
		{ptr(3.0 / 7), ptr(0.15), ptr(0.04)},
		{ptr(0.4), ptr(0.25), nil},
		{ptr(1), nil, nil},
	}
	doc := svg(t, func(w io.Writer) error { return Heatmap(w, "svg", "Retention", rows, cols, values) })
	if doc.count("Retention") != 1 {
		t.Errorf("title missing from %q", doc.textList())
	}
	for _, l := range append(slices.Clone(rows), cols...) {
		if doc.count(l) != 1 {
			t.Errorf("label %q appears %d times, want 1", l, doc.count(l))
		}
	}
	// One filled cell per value, each in its value's colour, with its percentage; nothing for nil cells.
	want := map[string]int{}
	wantLabels := map[string]int{}
	n := 0
	for _, row := range values {
		for _, v := range row {
			if v != nil {
				want[hex(cellColor(*v, 0, 1))]++
				wantLabels[formatPercent(*v)]++
				n++
			}
		}
	}
	got := map[string]int{}
	cells := 0
	for _, p := range doc.paths {
		if f, ok := p.style["fill"]; ok && f != "none" && f != "#FFFFFF" {
			if !strings.HasSuffix(p.d, "Z") || polylinePoints(t, strings.TrimSuffix(p.d, "Z")) != 4 {
				t.Errorf("filled path %q is not a rectangle", p.d)
			}
			got[f]++
			cells++
		}
	}
	if cells != n || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("filled cells by colour %v (%d), want %v (%d)", got, cells, want, n)
	}
	for _, l := range []string{"42.9%", "15.0%", "4.0%", "40.0%", "25.0%", "100.0%"} {
		if doc.count(l) != 1 {
			t.Errorf("cell label %q appears %d times, want 1", l, doc.count(l))
		}
	}
	percents := 0
	for _, s := range doc.textList() {
		if strings.HasSuffix(s, "%") {
			percents++
		}
	}
	if percents != n {
		t.Errorf("%d percentage labels, want %d: %q", percents, n, doc.textList())
	}
}

// Colours: the square root of a value's place in 0..1 between three stops.
func TestCellColor(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "#F7FBFF"},
		{0.25, "#6BAED6"}, // √0.25 = ½: the middle stop
		{1, "#08306B"},
		{-0.5, "#F7FBFF"}, // clamped
		{2, "#08306B"},
	}
	for _, tt := range tests {
		if got := hex(cellColor(tt.v, 0, 1)); got != tt.want {
			t.Errorf("cellColor(%v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestBarsSVG(t *testing.T) {
	labels := []string{"session_start", "tutorial_done", "level_complete", "purchase"}
	values := []float64{1234, 800, 410.5, 0}
	doc := svg(t, func(w io.Writer) error { return Bars(w, "svg", "Funnel", labels, values) })
	if doc.count("Funnel") != 1 {
		t.Errorf("title missing from %q", doc.textList())
	}
	bars := doc.fills(hex(barColor))
	if len(bars) != len(labels) {
		t.Fatalf("%d bars, want %d", len(bars), len(labels))
	}
	// Each step label once, left to right in order, and each value's text.
	var xs []float64
	for _, l := range labels {
		for _, tx := range doc.texts {
			if tx.text == l {
				xs = append(xs, tx.x)
			}
		}
	}
	if len(xs) != len(labels) || !slices.IsSorted(xs) {
		t.Errorf("step labels at x %v, want %d labels left to right", xs, len(labels))
	}
	// The values are written in bold, unlike the axis' numbers.
	var written []string
	for _, tx := range doc.texts {
		if tx.bold && tx.text != "Funnel" {
			written = append(written, tx.text)
		}
	}
	if want := []string{"1234", "800", "410.5", "0"}; !slices.Equal(written, want) {
		t.Errorf("values written %q, want %q", written, want)
	}
}

func TestFormatNumber(t *testing.T) {
	for v, want := range map[float64]string{1234: "1234", 12.5: "12.5", 1.0 / 3: "0.33", -0.001: "0", 0: "0", -7.25: "-7.25"} {
		if got := formatNumber(v); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

// Nothing to draw gives the title and "no data", and nothing else.
func TestNoData(t *testing.T) {
	tests := []struct {
		name string
		draw func(w io.Writer, format string) error
	}{
		{"no series", func(w io.Writer, f string) error { return TimeSeries(w, f, "T", "players", nil) }},
		{"only nulls", func(w io.Writer, f string) error {
			return TimeSeries(w, f, "T", "players", []Series{{Name: "a"}, {Name: "b", Points: []Point{{Day: day("2026-03-01"), Null: true}}}})
		}},
		{"no cohorts", func(w io.Writer, f string) error { return Heatmap(w, f, "T", nil, []string{"D1"}, nil) }},
		{"only empty cells", func(w io.Writer, f string) error {
			return Heatmap(w, f, "T", []string{"2026-03-01"}, []string{"D1", "D7"}, [][]*float64{{nil, nil}})
		}},
		{"no steps", func(w io.Writer, f string) error { return Bars(w, f, "T", nil, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := svg(t, func(w io.Writer) error { return tt.draw(w, "svg") })
			if got := doc.textList(); !slices.Equal(got, []string{"T", "no data"}) {
				t.Errorf("texts %q, want [T, no data]", got)
			}
			var b bytes.Buffer
			if err := tt.draw(&b, "png"); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, b.Bytes())
		})
	}
}

// samples draws one chart of each kind.
var samples = []struct {
	name string
	draw func(w io.Writer, format string) error
}{
	{"time series", func(w io.Writer, f string) error {
		return TimeSeries(w, f, "dau", "players", []Series{
			{Name: "a", Points: days("2026-03-01", 30, func(i int) float64 { return float64(i * i) }, func(i int) bool { return i == 9 })},
			{Name: "b", Points: days("2026-03-01", 30, func(i int) float64 { return float64(900 - i*i) }, nil)},
		})
	}},
	{"heat map", func(w io.Writer, f string) error {
		return Heatmap(w, f, "retention", []string{"2026-03-01", "2026-03-02"}, []string{"D1", "D7"},
			[][]*float64{{ptr(0.5), ptr(0.2)}, {ptr(0.45), nil}})
	}},
	{"bars", func(w io.Writer, f string) error {
		return Bars(w, f, "funnel", []string{"a", "b", "c"}, []float64{100, 40, 7})
	}},
}

// checkPNG asserts a PNG chart is 800×400 and not a single colour.
func checkPNG(t *testing.T, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	if got := img.Bounds(); got != image.Rect(0, 0, 800, 400) {
		t.Fatalf("PNG bounds %v, want 800×400", got)
	}
	first := img.At(0, 0)
	for y := range 400 {
		for x := range 800 {
			if img.At(x, y) != first {
				return
			}
		}
	}
	t.Errorf("PNG is a single colour %v", first)
}

func TestPNG(t *testing.T) {
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := s.draw(&b, "png"); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, b.Bytes())
		})
	}
}

// The same input gives the same bytes, so charts can be diffed.
func TestDeterministic(t *testing.T) {
	for _, s := range samples {
		for _, format := range []string{"svg", "png"} {
			t.Run(s.name+" "+format, func(t *testing.T) {
				var a, b bytes.Buffer
				if err := s.draw(&a, format); err != nil {
					t.Fatal(err)
				}
				if err := s.draw(&b, format); err != nil {
					t.Fatal(err)
				}
				if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Errorf("two drawings differ (%d and %d bytes)", a.Len(), b.Len())
				}
			})
		}
	}
}

func TestErrors(t *testing.T) {
	ok := []Series{{Name: "a", Points: days("2026-03-01", 2, func(int) float64 { return 1 }, nil)}}
	tests := []struct {
		name string
		draw func(w io.Writer) error
		want string
	}{
		{"time series format", func(w io.Writer) error { return TimeSeries(w, "pdf", "t", "u", ok) },
			`chart format "pdf": expected svg or png`},
		{"heat map format", func(w io.Writer) error { return Heatmap(w, "", "t", nil, nil, nil) },
			`chart format "": expected svg or png`},
		{"bars format", func(w io.Writer) error { return Bars(w, "SVG", "t", []string{"a"}, []float64{1}) },
			`chart format "SVG": expected svg or png`},
		{"format before lengths", func(w io.Writer) error { return Bars(w, "jpeg", "t", []string{"a"}, nil) },
			`chart format "jpeg": expected svg or png`},
		{"heat map rows", func(w io.Writer) error {
			return Heatmap(w, "svg", "t", []string{"2026-03-01", "2026-03-02"}, []string{"D1"}, [][]*float64{{ptr(1)}})
		}, `heatmap: 1 rows of values for 2 row labels`},
		{"heat map row length", func(w io.Writer) error {
			return Heatmap(w, "png", "t", []string{"2026-03-01", "2026-03-02"}, []string{"D1", "D7", "D30"},
				[][]*float64{{ptr(1), nil, nil}, {ptr(1), nil}})
		}, `heatmap row 1 ("2026-03-02"): 2 values for 3 column labels`},
		{"heat map NaN", func(w io.Writer) error {
			return Heatmap(w, "svg", "t", []string{"2026-03-01"}, []string{"D1"}, [][]*float64{{ptr(math.NaN())}})
		}, `heatmap row "2026-03-01" column "D1": value NaN is not a finite number`},
		{"bars lengths", func(w io.Writer) error { return Bars(w, "svg", "t", []string{"a", "b", "c"}, []float64{1, 2}) },
			`bars: 2 values for 3 labels`},
		{"bars infinite", func(w io.Writer) error { return Bars(w, "svg", "t", []string{"a"}, []float64{math.Inf(1)}) },
			`bars step "a": value +Inf is not a finite number`},
		{"series NaN", func(w io.Writer) error {
			return TimeSeries(w, "svg", "t", "u", []Series{{Name: "dau", Points: []Point{{Day: day("2026-03-04"), Value: math.NaN()}}}})
		}, `series "dau" day 2026-03-04: value NaN is not a finite number (mark a missing value Null)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := tt.draw(&b)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", b.Len())
			}
		})
	}
}
