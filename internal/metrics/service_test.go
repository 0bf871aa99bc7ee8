package metrics

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
)

// purchase is one staged row of the service test's table.
type purchase struct {
	player, ts, typ, currency string
	amount                    float64
}

// appendRows commits rows to t as one snapshot.
func appendRows(t *testing.T, tbl *table.Table, rows []purchase) *table.Table {
	t.Helper()
	ctx := context.Background()
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, r := range rows {
		ts, err := time.Parse(time.RFC3339, r.ts)
		if err != nil {
			t.Fatal(err)
		}
		b.Field(0).(*array.StringBuilder).Append(r.player)
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
		b.Field(2).(*array.StringBuilder).Append(r.typ)
		if r.amount == 0 {
			b.Field(3).AppendNull()
			b.Field(4).AppendNull()
		} else {
			b.Field(3).(*array.Float64Builder).Append(r.amount)
			b.Field(4).(*array.StringBuilder).Append(r.currency)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	files, err := lake.WriteFiles(ctx, tbl, rec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := lake.Commit(ctx, tbl, lake.Batch{Files: files})
	if err != nil {
		t.Fatal(err)
	}
	return res.Table
}

// TestServiceRefresh: a metric that cannot be computed (a purchase in a currency the rates lack) fails with
// a message naming the currency, without stopping the other metrics, and refreshing one metric by name
// leaves the others alone; Show reads the materialized rows with their source snapshot.
func TestServiceRefresh(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rates := filepath.Join(dir, "rates.csv")
	if err := os.WriteFile(rates, []byte("currency,rate\nUSD,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lk, err := lake.Open(ctx, "sqlite://"+filepath.Join(dir, "catalog.db"), filepath.Join(dir, "warehouse"))
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	tbl, err := lk.EnsureTable(ctx, lake.TableSpec{Name: "staging.shop", Columns: []lake.Column{
		{Name: "player_id", Type: "string"}, {Name: "event_time", Type: "timestamp"}, {Name: "event_type", Type: "string"},
		{Name: "amount", Type: "double"}, {Name: "currency", Type: "string"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tbl = appendRows(t, tbl, []purchase{
		{"a", "2026-03-01T10:00:00Z", "purchase", "USD", 2.5},
		{"b", "2026-03-01T11:00:00Z", "login", "", 0},
		{"b", "2026-03-02T11:00:00Z", "purchase", "KRW", 1200},
	})
	cfg := &config.Config{Metrics: []config.Metric{
		{Name: "players", Kind: "active_users", Table: "staging.shop", PlayerField: "player_id", TimeField: "event_time",
			EventTypeField: "event_type", PurchaseEvent: "purchase", AmountField: "amount", TimeZone: "UTC", Window: 24 * time.Hour},
		{Name: "sales", Kind: "revenue", Table: "staging.shop", PlayerField: "player_id", TimeField: "event_time",
			EventTypeField: "event_type", PurchaseEvent: "purchase", AmountField: "amount", CurrencyField: "currency",
			Rates: rates, TimeZone: "UTC", Window: 24 * time.Hour},
	}}
	svc, err := New(lk, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	outs, err := svc.Refresh(ctx)
	want := `refreshing metric sales: no rate for currency KRW (1 purchases, the first on 2026-03-02) in rates file ` + rates +
		`: add it, or the revenue would leave those purchases out`
	if err == nil || err.Error() != want {
		t.Fatalf("Refresh error:\n got %v\nwant %s", err, want)
	}
	if len(outs) != 1 || outs[0].Metric != "players" || !outs[0].Full || outs[0].Rows != 2 {
		t.Errorf("outcomes %+v, want players recomputed whole into 2 rows", outs)
	}
	res, err := svc.Show(ctx, Query{Name: "players", From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(res); got != "2026-03-01=2 2026-03-02=1" || res.Source.SnapshotID != tbl.CurrentSnapshot().SnapshotID ||
		!res.CompleteUntil.Equal(time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("players: %s, source %+v, complete until %s", got, res.Source, res.CompleteUntil)
	}
	if res, err := svc.Show(ctx, Query{Name: "sales"}); err != nil || len(res.Rows) != 0 || res.Source.SnapshotID != 0 {
		t.Errorf("sales before any refresh succeeded: %+v, %v; want no rows and no source", res, err)
	}

	// A late login by a new player, c, on 03-01: refreshing players by name recomputes that day only, and the
	// failing sales metric is not tried.
	tbl = appendRows(t, tbl, []purchase{{"c", "2026-03-01T23:59:59Z", "login", "", 0}})
	outs, err = svc.Refresh(ctx, "players")
	if err != nil || len(outs) != 1 || outs[0].Full || strings.Join(outs[0].Days, ",") != "2026-03-01" {
		t.Fatalf("Refresh(players) = %+v, %v; want 2026-03-01 recomputed", outs, err)
	}
	res, err = svc.Show(ctx, Query{Name: "players", From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(res); got != "2026-03-01=3 2026-03-02=1" || res.Source.SnapshotID != tbl.CurrentSnapshot().SnapshotID {
		t.Errorf("players after the late login: %s, source %+v", got, res.Source)
	}
	if _, err := svc.Refresh(ctx, "nope"); !errors.Is(err, ErrUnknownMetric) || err.Error() != `unknown metric "nope" (defined: players, sales)` {
		t.Errorf("Refresh(nope) = %v", err)
	}
	var pe *ParamError
	if _, err := svc.Show(ctx, Query{Name: "players", From: "2026-03-05", To: "2026-03-01"}); !errors.As(err, &pe) ||
		err.Error() != "to: 2026-03-01 is before from 2026-03-05" {
		t.Errorf("Show with to before from: %v", err)
	}
}

// rowsText is a result's rows as "day=value".
func rowsText(r *Result) string {
	var out []string
	for _, row := range r.Rows {
		v := "null"
		if row.Value != nil {
			v = num(row.Value)
		}
		out = append(out, row.Day+"="+v)
	}
	return strings.Join(out, " ")
}
