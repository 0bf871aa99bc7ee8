package transform

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// benchPipeline is the benchmark's transform: two derived columns, one filter and one route.
var benchPipeline = config.Pipeline{
	Enrich: config.Enrich{Derive: []config.Derived{
		{Name: "amount_krw", Type: config.TypeDouble, Expr: `amount != null ? amount * 1100.0 : 0.0`},
		{Name: "veteran", Type: config.TypeBoolean, Expr: `level >= 50`},
	}},
	Filters: []config.Filter{{Name: "test_accounts", Drop: `player_id.startsWith("test-")`}},
	Routes:  []config.Route{{Table: "staging.big_purchases", When: `event_type == "purchase" && amount_krw > 5000.0`}},
}

// BenchmarkApply measures the per-record cost of Apply plus Routes for the demo game event.
func BenchmarkApply(b *testing.B) {
	prg, err := New(&benchPipeline, gameColumns, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer prg.Close()
	recs := make([][]row.Value, 64)
	for i := range recs {
		recs[i] = purchase(2)
		recs[i][colAmount] = f64(float64(i) + 0.99)
		recs[i][colLevel] = i64(int64(i))
		recs[i][colClientSeq] = i64(int64(1000 + i))
	}
	dst := make([]int, 0, 4)
	routed := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		vals := recs[i%len(recs)]
		if prg.Apply(vals, meta) >= 0 {
			continue
		}
		dst = prg.Routes(vals, meta, "purchase", dst)
		routed += len(dst)
	}
	if routed == 0 {
		b.Fatal("nothing routed")
	}
	if errs := prg.Errors(); errs["derive:veteran"]+errs["derive:amount_krw"] != 0 {
		b.Fatalf("evaluation errors: %v", errs)
	}
}

// BenchmarkApplyLookup measures a lookup from a reference file plus a derived column using it.
func BenchmarkApplyLookup(b *testing.B) {
	dir := b.TempDir()
	data := "item_id,item_name,price\n"
	for i := range 1000 {
		data += fmt.Sprintf("item-%d,Item %d,%d.99\n", i, i, i%50)
	}
	if err := os.WriteFile(filepath.Join(dir, "items.csv"), []byte(data), 0o644); err != nil {
		b.Fatal(err)
	}
	p := &config.Pipeline{Enrich: config.Enrich{
		Lookups: []config.Lookup{{File: "items.csv", Key: "item_id", BaseDir: dir, Columns: []config.Column{
			{Name: "item_name", Type: config.TypeString}, {Name: "price", Type: config.TypeDouble}}}},
		Derive: []config.Derived{{Name: "list_price_krw", Type: config.TypeDouble,
			Expr: `price != null ? price * 1100.0 : 0.0`}},
	}}
	prg, err := New(p, gameColumns, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer prg.Close()
	recs := make([][]row.Value, 64)
	for i := range recs {
		recs[i] = purchase(3)
		recs[i][colItemID] = str(fmt.Sprintf("item-%d", i*17%1000))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		prg.Apply(recs[i%len(recs)], meta)
	}
	if m := prg.Misses()["lookup:items.csv"]; m != 0 {
		b.Fatalf("%d misses", m)
	}
}
