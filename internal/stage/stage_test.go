package stage_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/query"
	"github.com/bigfather/bigfather/internal/stage"
)

var allTypes = []config.Column{
	{Name: "id", Type: config.TypeString, Required: true},
	{Name: "ts", Type: config.TypeTimestamp, Required: true},
	{Name: "n", Type: config.TypeLong},
	{Name: "small", Type: config.TypeInt},
	{Name: "x", Type: config.TypeDouble},
	{Name: "f", Type: config.TypeFloat},
	{Name: "ok", Type: config.TypeBoolean},
	{Name: "day", Type: config.TypeDate},
	{Name: "country", Type: config.TypeString},
}

// TestStageTypesAndTransforms stages every column type into tables partitioned by every transform and reads
// the exact values back with SQL.
func TestStageTypesAndTransforms(t *testing.T) {
	br, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	const n = 60
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("types"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	base := time.Date(2026, 1, 30, 22, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		ts := base.Add(time.Duration(i) * 97 * time.Minute) // spans hours, days, a month and a year boundary
		rec := fmt.Sprintf(`{"id":"id-%02d","ts":%q,"n":%d,"small":%d,"x":%d.25,"f":0.5,"ok":%t,"day":%q,"country":%q}`,
			i, ts.Format(time.RFC3339), int64(i)*1_000_000_000_000, -i, i, i%2 == 0, ts.Format(time.DateOnly), []string{"KR", "US", "JP"}[i%3])
		if i%10 == 0 { // epoch milliseconds and nulls
			rec = fmt.Sprintf(`{"id":"id-%02d","ts":%d,"country":null}`, i, ts.UnixMilli())
		}
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte(rec)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name      string
		partition []config.PartitionField
		maxBytes  int64
	}{
		{"identity", []config.PartitionField{{Transform: "identity", Column: "country"}}, 0},
		{"year and month", []config.PartitionField{{Transform: "year", Column: "ts"}, {Transform: "month", Column: "day"}}, 0},
		{"day", []config.PartitionField{{Transform: "day", Column: "ts"}}, 0},
		{"hour", []config.PartitionField{{Transform: "hour", Column: "ts"}}, 0},
		{"bucket", []config.PartitionField{{Transform: "bucket", Column: "id", Param: 4}}, 0},
		{"truncate", []config.PartitionField{{Transform: "truncate", Column: "n", Param: 1000}}, 0},
		{"unpartitioned, byte bound", nil, 1000},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := &config.Pipeline{
				Name: fmt.Sprintf("types-%d", i), Topics: []string{"types"}, Start: "earliest", Format: "json", Group: fmt.Sprintf("g-%d", i),
				Table:  config.Table{Name: fmt.Sprintf("staging.types_%d", i), Columns: allTypes, Partitions: tc.partition},
				Commit: config.Commit{Interval: 200 * time.Millisecond, MaxRows: 1000, MaxBytes: 64 << 20},
			}
			if tc.maxBytes > 0 {
				p.Commit.MaxBytes, p.Commit.Interval = tc.maxBytes, 2*time.Second // the tail below the bound waits for the interval
			}
			ctx := context.Background()
			lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "catalog.db"), filepath.Join(dir, "warehouse"))
			if err != nil {
				t.Fatal(err)
			}
			defer lk.Close()
			m := monitor.NewMetrics()
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- stage.Run(rctx, stage.Options{Pipeline: p, Brokers: []string{br.Addr()}, Lake: lk, Metrics: m, Logger: slog.New(slog.DiscardHandler)})
			}()
			deadline := time.Now().Add(30 * time.Second)
			for testutil.ToFloat64(m.RowsCommitted.WithLabelValues(p.Name, p.Table.Name)) < n {
				if time.Now().After(deadline) {
					t.Fatal("timed out waiting for rows")
				}
				time.Sleep(50 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if tc.maxBytes > 0 {
				// 54 full records of about 140 bytes and 6 short ones: the 1,000-byte bound seals a batch every ~7 records.
				if c := testutil.ToFloat64(m.Commits.WithLabelValues(p.Name, p.Table.Name, "ok")); c < 7 {
					t.Errorf("byte bound: %v commits, want at least 7", c)
				}
			}
			rows := queryTable(t, lk, p.Table.Name, `select count(*), count(distinct id), sum(n), sum(small), sum(x), sum(f), count(*) filter (where ok),
				count(day), min(ts), max(ts), count(country), min(_offset) >= 0 from `+p.Table.Name)
			got := rows[0]
			if got[0] != int64(n) || got[1] != int64(n) {
				t.Errorf("rows: %v, want %d rows with distinct ids", got[:2], n)
			}
			// Expected aggregates over the 54 full records (i not divisible by 10).
			var sumN, sumSmall int64
			var sumX float64
			var oks int64
			for i := 0; i < n; i++ {
				if i%10 == 0 {
					continue
				}
				sumN += int64(i) * 1_000_000_000_000
				sumSmall -= int64(i)
				sumX += float64(i) + 0.25
				if i%2 == 0 {
					oks++
				}
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"sum(n)", fmt.Sprint(got[2]), fmt.Sprint(sumN)},
				{"sum(small)", fmt.Sprint(got[3]), fmt.Sprint(sumSmall)},
				{"sum(x)", got[4], sumX},
				{"sum(f)", got[5], float64(27)},
				{"ok count", got[6], oks},
				{"day count", got[7], int64(54)},
				{"min(ts)", got[8].(time.Time).UTC(), base},
				{"max(ts)", got[9].(time.Time).UTC(), base.Add(59 * 97 * time.Minute)},
				{"country count", got[10], int64(54)},
			}
			for _, c := range checks {
				if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			// Epoch milliseconds decode to the same instant as RFC 3339.
			if got := queryTable(t, lk, p.Table.Name, `select ts from `+p.Table.Name+` where id = 'id-10'`); !got[0][0].(time.Time).Equal(base.Add(10 * 97 * time.Minute)) {
				t.Errorf("epoch millis ts = %v", got[0][0])
			}
			if got := queryTable(t, lk, p.Table.Name, `select day from `+p.Table.Name+` where id = 'id-03'`); got[0][0].(time.Time).Format(time.DateOnly) != base.Add(3*97*time.Minute).Format(time.DateOnly) {
				t.Errorf("date = %v", got[0][0])
			}
		})
	}
}

// queryTable runs sql over the current snapshot of the table name, as `bigfather sql` does, and returns its rows.
func queryTable(t testing.TB, lk *lake.Lake, name, sql string) [][]any {
	t.Helper()
	ctx := context.Background()
	snap, err := lk.Snapshot(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := query.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ns, table, _ := strings.Cut(name, ".")
	qt := query.Table{Namespace: ns, Name: table, DataFiles: snap.DataFiles, PositionDeletes: snap.DeleteFiles}
	for _, c := range snap.Columns {
		qt.Columns = append(qt.Columns, query.Column{Name: c.Name, Type: c.Type})
	}
	if err := eng.Register(ctx, qt); err != nil {
		t.Fatal(err)
	}
	res, err := eng.Query(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows
}

// TestStopWhileStarting: a stop that arrives while a worker is still starting (opening its tables, loading the
// dedup index) is graceful: Run returns nil, so the process exits 0 having consumed nothing.
func TestStopWhileStarting(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "catalog.db"), filepath.Join(dir, "warehouse"))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	p := &config.Pipeline{
		Name: "starting", Topics: []string{"t"}, Start: "earliest", Format: "json", Group: "g",
		Table:  config.Table{Name: "staging.starting", Columns: allTypes},
		Commit: config.Commit{Interval: time.Second, MaxRows: 1000, MaxBytes: 64 << 20},
		Dedup:  config.Dedup{Field: "id", TimeField: "ts", Window: time.Hour},
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := stage.Run(stopped, stage.Options{Pipeline: p, Brokers: []string{"127.0.0.1:1"}, Lake: lk, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatalf("Run stopped while starting: %v, want nil", err)
	}
}
