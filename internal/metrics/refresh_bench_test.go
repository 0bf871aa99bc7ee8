package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/demo"
	"github.com/bigfather/bigfather/internal/lake"
)

// The staged table the refresh benchmarks read: 10,000,000 rows over 60 days by about 50,000 players.
const (
	benchRows          = 10_000_000
	benchDays          = 60
	benchCohort        = 834 // players joining per day: 60 × 834 = 50,040 players
	benchTable         = "staging.game_events"
	benchLateRows      = 1_000 // rows a one-day refresh appends
	benchSpreadRows    = 3_000 // rows a thirty-day refresh appends, 100 a day
	benchDaysPerCommit = 10
)

// benchStart is the first day of the staged rows.
var benchStart = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// perDayMetrics are the metrics of the game pack whose day's value depends on that day's rows only: a refresh
// after rows arrive for some days recomputes exactly those days.
var perDayMetrics = []string{"dau", "revenue", "paying_users", "arpdau", "arppu", "conversion", "sessions"}

// reportedMetrics are the metrics whose recomputed days the benchmarks report besides the per-day ones.
var reportedMetrics = []string{"wau", "mau", "new_players", "retention", "funnel"}

// BenchmarkRefresh measures the metrics refresh of the game pack (12 metrics, broken down by platform) over a
// staged table of 10,000,000 rows partitioned by day(event_time), shaped like config.Default's
// staging.game_events (its columns plus the Kafka metadata columns, and its pipeline's completeness fields, so
// a refresh also computes the completeness gaps). Sub-benchmarks: Full recomputes every metric (its tables
// dropped first); OneDay appends 1,000 late rows on one past day, ThirtyDays 3,000 rows over 30 past days,
// then each refreshes incrementally. The table is written once per process, by this function (sub-benchmarks
// share it), in a temporary directory; only Service.Refresh is timed. Plain `go test` runs none of it. Run it
// with
//
//	go test -run '^$' -bench Refresh -benchtime 1x -timeout 60m ./internal/metrics
//
// (on two cores one iteration of each case takes minutes). Reported per refresh: the staged rows, the days
// the metrics recomputed (days-per-day-metrics for dau, revenue, paying_users, arpdau, arppu, conversion and
// sessions, which must be exactly the days that got rows), the seconds, and the peak RSS of the process during
// the sub-benchmark (Linux).
func BenchmarkRefresh(b *testing.B) {
	f := newRefreshFixture(b)
	ctx := context.Background()
	b.Logf("staged %d rows in %d data files in %s", f.rows, f.files, f.generated.Round(time.Millisecond))

	// Every iteration drops the metric tables first; the last one leaves every metric materialized, which the
	// incremental cases start from.
	b.Run("Full", func(b *testing.B) {
		resetPeakRSS(b)
		for b.Loop() {
			b.StopTimer()
			f.dropMetricTables(b)
			b.StartTimer()
			outs, err := f.svc.Refresh(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			checkFull(b, outs)
			f.materialized = true
			b.StartTimer()
		}
		f.report(b, nil, nil)
	})

	// Late rows land on a past day, a different one each iteration, far enough from the newest day that wau
	// and mau windows and retention's day N do not reach past the data.
	oneDay := 20
	b.Run("OneDay", func(b *testing.B) {
		f.refreshLate(b, func() (int, dayShare, []string) {
			day := oneDay
			oneDay++
			return day, spreadOver(benchLateRows, day, 1), []string{f.day(day)}
		})
	})

	// Rows spread over 30 past days (100 a day).
	thirty := 10
	b.Run("ThirtyDays", func(b *testing.B) {
		f.refreshLate(b, func() (int, dayShare, []string) {
			from := thirty
			thirty++
			want := make([]string, 30)
			for i := range want {
				want[i] = f.day(from + i)
			}
			return from, spreadOver(benchSpreadRows, from, 30), want
		})
	})
}

// refreshLate times incremental refreshes: each iteration appends the rows next gives (not timed), refreshes,
// and checks that the per-day metrics recomputed exactly next's days. next also returns the first late day,
// which the report lists.
func (f *refreshFixture) refreshLate(b *testing.B, next func() (first int, rows dayShare, days []string)) {
	b.Helper()
	var last []Outcome
	var lateDays []int
	f.materialize(b)
	resetPeakRSS(b)
	for b.Loop() {
		b.StopTimer()
		first, rows, days := next()
		f.append(b, rows)
		lateDays = append(lateDays, first)
		b.StartTimer()
		outs, err := f.svc.Refresh(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		checkIncremental(b, outs, days)
		last = outs
		b.StartTimer()
	}
	f.report(b, last, lateDays)
}

// checkFull fails unless every metric of the game pack was recomputed whole.
func checkFull(b *testing.B, outs []Outcome) {
	b.Helper()
	if len(outs) != 12 {
		b.Fatalf("refreshed %d metrics, want the game pack's 12: %+v", len(outs), outs)
	}
	for _, o := range outs {
		if !o.Full {
			b.Fatalf("refresh of %s after its table was dropped was not full: %+v", o.Metric, o)
		}
	}
}

// checkIncremental fails unless every metric was refreshed incrementally and every per-day metric recomputed
// exactly days.
func checkIncremental(b *testing.B, outs []Outcome, days []string) {
	b.Helper()
	if len(outs) != 12 {
		b.Fatalf("refreshed %d metrics, want the game pack's 12: %+v", len(outs), outs)
	}
	for _, o := range outs {
		if o.Full || o.UpToDate {
			b.Fatalf("metric %s: full %v, up to date %v after late rows; want an incremental refresh", o.Metric, o.Full, o.UpToDate)
		}
		for _, name := range perDayMetrics {
			if o.Metric == name && strings.Join(o.Days, " ") != strings.Join(days, " ") {
				b.Fatalf("metric %s recomputed days %v, want %v", o.Metric, o.Days, days)
			}
		}
	}
}

// dayShare is how many of n rows land on each of span days starting at day from.
type dayShare struct{ from, span, n int }

func spreadOver(n, from, span int) dayShare { return dayShare{from: from, span: span, n: n} }

// refreshFixture is the staged table, its lake and the metrics service over it.
type refreshFixture struct {
	lk        *lake.Lake
	tbl       *table.Table
	svc       *Service
	gen       *eventGen
	rows      int64
	files     int
	generated time.Duration
	// materialized is set once a full refresh materialized every metric.
	materialized bool
}

// newRefreshFixture writes the staged table in a temporary directory removed when b ends, and the metrics
// service of the game pack over it.
func newRefreshFixture(b *testing.B) *refreshFixture {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	cfg := config.Default(dir)
	staged := cfg.Pipelines[0].Table
	if staged.Name != benchTable {
		b.Fatalf("config.Default stages %s, want %s", staged.Name, benchTable)
	}
	rates := filepath.Join(dir, "rates.csv")
	if err := demo.WriteRates(rates); err != nil {
		b.Fatal(err)
	}
	// The rows are written here rather than staged from Kafka: the pipeline needs no log definitions or routes.
	cfg.Pipelines[0].Definitions, cfg.Pipelines[0].Routes = config.Definitions{}, nil
	cfg.Metrics = []config.Metric{{Pack: "game", Table: benchTable, CurrencyField: "currency", Rates: rates,
		Dimensions: []string{"platform"}, SessionEvent: "session_start", Steps: []string{"session_start", "level_complete", "purchase"}}}
	if err := cfg.Validate(config.ValidateOptions{EmbeddedBroker: true}); err != nil {
		b.Fatal(err)
	}
	lk, err := lake.Open(ctx, cfg.Catalog.URI, cfg.Warehouse)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { lk.Close() })
	spec := lake.TableSpec{Name: benchTable, Partitions: []lake.Partition{{Transform: "day", Column: "event_time"}}}
	for _, c := range staged.Columns {
		spec.Columns = append(spec.Columns, lake.Column{Name: c.Name, Type: string(c.Type), Required: c.Required})
	}
	// The Kafka metadata columns every staged row carries.
	spec.Columns = append(spec.Columns, lake.Column{Name: "_topic", Type: "string", Required: true},
		lake.Column{Name: "_partition", Type: "int", Required: true}, lake.Column{Name: "_offset", Type: "long", Required: true},
		lake.Column{Name: "_kafka_timestamp", Type: "timestamp"}, lake.Column{Name: "_ingested_at", Type: "timestamp", Required: true})
	tbl, err := lk.EnsureTable(ctx, spec)
	if err != nil {
		b.Fatal(err)
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		b.Fatal(err)
	}
	f := &refreshFixture{lk: lk, tbl: tbl, gen: newEventGen(sc)}
	start := time.Now()
	perDay := benchRows / benchDays
	for first := 0; first < benchDays; first += benchDaysPerCommit {
		var recs []arrow.RecordBatch
		for d := first; d < min(first+benchDaysPerCommit, benchDays); d++ {
			n := perDay
			if d == benchDays-1 {
				n = benchRows - perDay*(benchDays-1)
			}
			recs = append(recs, f.gen.record(dayShare{from: d, span: 1, n: n}))
		}
		f.commit(b, recs...)
	}
	f.generated = time.Since(start)
	if f.svc, err = New(lk, cfg, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	return f
}

// materialize refreshes every metric in full unless an earlier sub-benchmark did (not timed).
func (f *refreshFixture) materialize(b *testing.B) {
	b.Helper()
	if f.materialized {
		return
	}
	b.StopTimer()
	defer b.StartTimer()
	start := time.Now()
	outs, err := f.svc.Refresh(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	checkFull(b, outs)
	f.materialized = true
	b.Logf("materialized every metric in %s", time.Since(start).Round(time.Millisecond))
}

// append writes and commits rows for share's days.
func (f *refreshFixture) append(b *testing.B, share dayShare) {
	b.Helper()
	f.commit(b, f.gen.record(share))
}

// commit writes recs as data files of the staged table and commits them in one snapshot.
func (f *refreshFixture) commit(b *testing.B, recs ...arrow.RecordBatch) {
	b.Helper()
	ctx := context.Background()
	files, err := lake.WriteFiles(ctx, f.tbl, recs...)
	for _, r := range recs {
		f.rows += r.NumRows()
		r.Release()
	}
	if err != nil {
		b.Fatal(err)
	}
	res, err := lake.Commit(ctx, f.tbl, lake.Batch{Files: files})
	if err != nil {
		b.Fatal(err)
	}
	f.tbl = res.Table
	f.files += len(files)
}

// dropMetricTables drops the materialized metrics (those that exist), so the next refresh computes every day.
func (f *refreshFixture) dropMetricTables(b *testing.B) {
	b.Helper()
	for _, info := range f.svc.List() {
		err := f.lk.Catalog().DropTable(context.Background(), lake.Ident(info.MaterializedAs))
		if err != nil && !errors.Is(err, catalog.ErrNoSuchTable) {
			b.Fatalf("dropping %s: %v", info.MaterializedAs, err)
		}
	}
}

// day is the date of day i of the staged rows.
func (f *refreshFixture) day(i int) string { return benchStart.AddDate(0, 0, i).Format(time.DateOnly) }

// report reports the staged rows, the seconds per refresh, the peak RSS, and the days the last refresh's
// metrics recomputed (none for a full refresh).
func (f *refreshFixture) report(b *testing.B, last []Outcome, lateDays []int) {
	b.ReportMetric(float64(f.rows), "rows")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/refresh")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	}
	if last == nil {
		return
	}
	days := map[string]int{}
	for _, o := range last {
		days[o.Metric] = len(o.Days)
	}
	b.ReportMetric(float64(days["dau"]), "days-per-day-metrics")
	for _, name := range reportedMetrics {
		b.ReportMetric(float64(days[name]), "days-"+name)
	}
	b.Logf("late rows on days starting %v; the last refresh recomputed: %v", lateDays, days)
}

// resetPeakRSS resets the process's peak RSS (VmHWM), so peakRSS reports the peak from now on.
func resetPeakRSS(b *testing.B) {
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil && runtime.GOOS == "linux" {
		b.Logf("resetting the peak RSS: %v (it covers the whole process)", err)
	}
}

// peakRSS is the process's peak RSS in bytes (VmHWM), 0 where /proc does not tell.
func peakRSS() int64 {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// eventGen generates game events: every day 834 players join, and a row on day d belongs to a player who
// joined a exponentially distributed number of days earlier (mean 10), so older cohorts fade out; purchases
// come in four currencies.
type eventGen struct {
	schema  *arrow.Schema
	rng     *rand.Rand
	players []string
	seqs    []int64
	offset  int64
}

func newEventGen(sc *arrow.Schema) *eventGen {
	g := &eventGen{schema: sc, rng: rand.New(rand.NewPCG(11, 5)), players: make([]string, benchDays*benchCohort),
		seqs: make([]int64, benchDays*benchCohort)}
	for i := range g.players {
		g.players[i] = fmt.Sprintf("p%06d", i)
	}
	return g
}

// eventMix is the share of each event type, in thousandths.
var eventMix = []struct {
	name string
	per  int
}{
	{"session_start", 120}, {"session_end", 100}, {"level_start", 220}, {"level_complete", 180}, {"level_fail", 10},
	{"ad_view", 150}, {"item_use", 150}, {"tutorial_step", 40}, {"purchase", 30},
}

var (
	platforms  = []string{"android", "android", "android", "ios", "ios", "web"}
	countries  = []string{"KR", "KR", "US", "US", "US", "JP", "DE", "BR", "IN", "GB", "FR", "VN"}
	currencies = []struct {
		code  string
		scale float64
	}{{"USD", 1}, {"USD", 1}, {"USD", 1}, {"EUR", 1}, {"KRW", 1300}, {"JPY", 150}}
	prices = []float64{0.99, 1.99, 4.99, 9.99, 19.99, 49.99}
	items  = []string{"sword", "shield", "potion", "gem_pack", "skin_01", "booster"}
)

// record builds share.n rows spread evenly over share's days.
func (g *eventGen) record(share dayShare) arrow.RecordBatch {
	bld := array.NewRecordBuilder(memory.DefaultAllocator, g.schema)
	defer bld.Release()
	bld.Reserve(share.n)
	col := func(name string) array.Builder {
		i := g.schema.FieldIndices(name)
		if len(i) != 1 {
			panic("staged table has no column " + name)
		}
		return bld.Field(i[0])
	}
	var (
		eventID  = col("event_id").(*array.StringBuilder)
		ts       = col("event_time").(*array.TimestampBuilder)
		player   = col("player_id").(*array.StringBuilder)
		etype    = col("event_type").(*array.StringBuilder)
		level    = col("level").(*array.Int32Builder)
		item     = col("item_id").(*array.StringBuilder)
		amount   = col("amount").(*array.Float64Builder)
		currency = col("currency").(*array.StringBuilder)
		platform = col("platform").(*array.StringBuilder)
		country  = col("country").(*array.StringBuilder)
		seq      = col("client_seq").(*array.Int64Builder)
		topic    = col("_topic").(*array.StringBuilder)
		part     = col("_partition").(*array.Int32Builder)
		offset   = col("_offset").(*array.Int64Builder)
		kafkaTS  = col("_kafka_timestamp").(*array.TimestampBuilder)
		ingested = col("_ingested_at").(*array.TimestampBuilder)
	)
	const dayMicros = 24 * 60 * 60 * 1_000_000
	r := g.rng
	var idBuf []byte
	for i := 0; i < share.n; i++ {
		day := share.from + i%share.span
		age := min(day, int(r.ExpFloat64()*10))
		p := (day-age)*benchCohort + r.IntN(benchCohort)
		micros := benchStart.UnixMicro() + int64(day)*dayMicros + r.Int64N(dayMicros)
		g.offset++
		g.seqs[p]++
		idBuf = strconv.AppendInt(append(idBuf[:0], 'e'), g.offset, 36)
		eventID.BinaryBuilder.Append(idBuf)
		ts.Append(arrow.Timestamp(micros))
		player.Append(g.players[p])
		pick, name := r.IntN(1000), ""
		for _, m := range eventMix {
			if pick < m.per {
				name = m.name
				break
			}
			pick -= m.per
		}
		etype.Append(name)
		if strings.HasPrefix(name, "level_") {
			level.Append(int32(1 + r.IntN(200)))
		} else {
			level.AppendNull()
		}
		if name == "purchase" || name == "item_use" {
			item.Append(items[r.IntN(len(items))])
		} else {
			item.AppendNull()
		}
		if name == "purchase" {
			c := currencies[r.IntN(len(currencies))]
			amount.Append(math.Round(prices[r.IntN(len(prices))]*c.scale*100) / 100)
			currency.Append(c.code)
		} else {
			amount.AppendNull()
			currency.AppendNull()
		}
		platform.Append(platforms[p%len(platforms)])
		country.Append(countries[p%len(countries)])
		seq.Append(g.seqs[p])
		topic.Append("game.events")
		part.Append(int32(p % 12))
		offset.Append(g.offset)
		kafkaTS.Append(arrow.Timestamp(micros + 20_000))
		ingested.Append(arrow.Timestamp(micros + 250_000))
	}
	return bld.NewRecordBatch()
}
