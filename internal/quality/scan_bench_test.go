package quality

import (
	"testing"

	"github.com/valyala/fastjson"
)

// BenchmarkScan measures the strict scan alone, beside fastjson's parse of the same record, to keep the scan's
// share of Check in view.
func BenchmarkScan(b *testing.B) {
	c, err := New(goldenPipeline(false))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(demoEvent)))
		for b.Loop() {
			if v := c.scan(demoEvent); v != nil {
				b.Fatal(v)
			}
		}
	})
	b.Run("fastjson", func(b *testing.B) {
		var p fastjson.Parser
		b.SetBytes(int64(len(demoEvent)))
		for b.Loop() {
			if _, err := p.ParseBytes(demoEvent); err != nil {
				b.Fatal(err)
			}
		}
	})
}
