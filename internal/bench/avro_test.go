package bench

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/demo"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/registry/schema"
	"github.com/bigfather/bigfather/internal/registry/wire"
	"github.com/bigfather/bigfather/internal/stage"
)

// TestPipelineForAvro checks the Avro shape's pipeline: plain's, reading the topic's subject with format avro
// and no declared columns.
func TestPipelineForAvro(t *testing.T) {
	p, tables, err := pipelineFor(Avro, t.TempDir(), "avro_x", "bigfather-bench-avro-x", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != config.FormatAvro || p.Subject != "bigfather-bench-avro-x-value" || len(p.Table.Columns) != 0 ||
		p.Table.Name != "bench.avro_x" || !slices.Equal(p.Table.PartitionBy, []string{"day(event_time)"}) {
		t.Errorf("pipeline: format %q subject %q columns %v table %s partition_by %v", p.Format, p.Subject, p.Table.Columns,
			p.Table.Name, p.Table.PartitionBy)
	}
	if p.Definitions.Enabled() || len(p.Cleanse.Fields) > 0 || len(p.Enrich.Derive) > 0 || p.Dedup.Field != "" ||
		len(p.Routes) > 0 || p.Completeness.SeqField != "" {
		t.Errorf("the Avro shape does more than plain: definitions %v cleanse %v enrich %v dedup %v routes %v completeness %v",
			p.Definitions, p.Cleanse, p.Enrich, p.Dedup, p.Routes, p.Completeness)
	}
	want := []tableRef{{"bench.avro_x", roleMain}, {"bench.avro_x" + stage.RejectedSuffix, roleRejected}}
	if !slices.Equal(tables, want) {
		t.Errorf("tables %v, want %v", tables, want)
	}
}

// TestFramedAvro registers the demo schema under two subjects, as the throughput and live runs do, and reads
// an encoded event back as staging does: split the frame, fetch the schema by id, decode.
func TestFramedAvro(t *testing.T) {
	ctx := context.Background()
	store, err := registry.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	id, err := registerAvro(ctx, store, "bench-throughput-value")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := registerAvro(ctx, store, "bench-live-value"); err != nil || again != id {
		t.Fatalf("second subject: id %d, %v; want the same schema id %d", again, err, id)
	}

	e := demo.Event{EventID: "e-1", EventTime: time.UnixMilli(1_764_500_000_250).UTC(), PlayerID: "p000042", EventType: demo.Purchase,
		Level: 7, ItemID: "gem_pack_02", Amount: 4.99, Currency: "USD", Platform: "ios", Country: "US", ClientSeq: 12}
	f := &framedAvro{id: uint32(id)}
	prefix := []byte("kept")
	value := f.encode(prefix, e)
	if string(value[:4]) != "kept" || f.bytes != int64(len(value)-4) {
		t.Fatalf("encode kept %q and counted %d bytes of %d appended", value[:4], f.bytes, len(value)-4)
	}
	f.encode(nil, e)
	if f.bytes != 2*int64(len(value)-4) {
		t.Errorf("after two events the count is %d, want %d", f.bytes, 2*(len(value)-4))
	}

	gotID, rest, err := wire.Split(value[4:])
	if err != nil || gotID != id {
		t.Fatalf("wire.Split: id %d, %v; want id %d", gotID, err, id)
	}
	sch, err := store.Schema(ctx, gotID)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := schema.Parse(sch.Type, sch.Text, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := wire.New(parsed)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := dec.Decode(rest)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"event_id": "e-1", "event_time": e.EventTime, "player_id": "p000042", "event_type": "purchase",
		"level": int64(7), "item_id": "gem_pack_02", "amount": 4.99, "currency": "USD", "platform": "ios", "country": "US",
		"client_seq": int64(12)}
	if len(rec) != len(want) {
		t.Errorf("decoded %v, want %v", rec, want)
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %#v, want %#v", k, rec[k], v)
		}
	}
	var names []string
	for _, f := range dec.Fields() {
		names = append(names, f.Name+" "+f.Type.String())
	}
	wantFields := []string{"event_id string", "event_time timestamptz", "player_id string", "event_type string", "level int",
		"item_id string", "amount double", "currency string", "platform string", "country string", "client_seq long"}
	if !slices.Equal(names, wantFields) {
		t.Errorf("table fields %v, want %v", names, wantFields)
	}
}
