package quality

import (
	"testing"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// demoEvent is a typical demo item_acquire event (about 250 bytes), as internal/demo writes them.
var demoEvent = []byte(`{"event_id":"d60f5254-2a78-4a59-81e4-5b44f658d5f1","event_time":"2026-12-31T14:42:35.617Z","player_id":"p000891","event_type":"item_acquire","level":10,"item_id":"helmet_15","platform":"ios","country":"US","client_seq":3}`)

// BenchmarkCheck checks the demo event against the golden definitions with every cleansing rule on.
func BenchmarkCheck(b *testing.B) {
	c, err := New(goldenPipeline(false))
	if err != nil {
		b.Fatal(err)
	}
	benchCheck(b, c)
}

// BenchmarkCheckNoDefinitions checks the demo event against the default pipeline's declared columns, the
// former stage decoder's job.
func BenchmarkCheckNoDefinitions(b *testing.B) {
	p := config.Default(b.TempDir()).Pipelines[0]
	p.Definitions = config.Definitions{} // the declared columns only
	c, err := New(&p)
	if err != nil {
		b.Fatal(err)
	}
	benchCheck(b, c)
}

func benchCheck(b *testing.B, c *Checker) {
	out := make([]row.Value, len(c.Columns()))
	b.SetBytes(int64(len(demoEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if v := c.Check(demoEvent, goldenNow, out); v != nil {
			b.Fatal(v)
		}
	}
}

// TestCheckAllocs holds Check to no allocations for accepted records, nested ones and cleansing included.
// (A field nulled by null_if_invalid allocates its discarded message.)
func TestCheckAllocs(t *testing.T) {
	withDefs, err := New(goldenPipeline(false))
	if err != nil {
		t.Fatal(err)
	}
	p := config.Default(t.TempDir()).Pipelines[0]
	p.Definitions = config.Definitions{} // the declared columns only
	noDefs, err := New(&p)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		c      *Checker
		record string
	}{
		{withDefs, string(demoEvent)},
		{withDefs, `{"event_id":"d60f5254-2a78-4a59-81e4-5b44f658d5f1","event_time":1798728000,"player_id":" p000891","event_type":"session_start","level":"10","device":{"model":"x","ram_mb":512},"platform":"IPhone","country":"kr","client_seq":3}`},
		{withDefs, `{"event_id":"d60f5254-2a78-4a59-81e4-5b44f658d5f1","event_time":"2026-12-31T14:42:35Z","player_id":"p000891","event_type":"session_end","level":10,"duration_s":5,"tags":["a","b"],"platform":"pc","client_seq":3}`},
		{noDefs, string(demoEvent)},
	}
	for _, tc := range cases {
		out := make([]row.Value, len(tc.c.Columns()))
		rec := []byte(tc.record)
		if v := tc.c.Check(rec, goldenNow, out); v != nil {
			t.Fatalf("%s: %v", tc.record, v)
		}
		if n := testing.AllocsPerRun(100, func() { tc.c.Check(rec, goldenNow, out) }); n != 0 {
			t.Errorf("%s: %.1f allocations per Check", tc.record, n)
		}
	}
}
