package lake

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	icebergio "github.com/apache/iceberg-go/io"
)

// TestFileCache: files are fetched once, a size mismatch is refused, and eviction removes the least recently
// used files beyond the bound but never one the current call needs.
func TestFileCache(t *testing.T) {
	src := t.TempDir()
	var files []remoteFile
	for i, name := range []string{"a", "b", "c"} {
		p := filepath.Join(src, name+".parquet")
		if err := os.WriteFile(p, []byte(strings.Repeat(name, 100*(i+1))), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, remoteFile{uri: "file://" + p, size: int64(100 * (i + 1))})
	}
	c := &fileCache{dir: filepath.Join(t.TempDir(), "cache"), max: 350}
	ctx := context.Background()
	fsys := icebergio.LocalFS{}

	got, err := c.fetch(ctx, fsys, "x", files[:2]) // 300 bytes
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got[1]); string(b) != strings.Repeat("b", 200) {
		t.Fatalf("cached copy of b = %q", b)
	}
	old := time.Now().Add(-time.Hour)
	_ = os.Chtimes(got[0], old, old) // a was used long ago
	_ = os.Chtimes(got[1], old.Add(time.Minute), old.Add(time.Minute))

	// c (300 bytes) pushes the total to 600: a goes first (least recently used), then b.
	gotC, err := c.fetch(ctx, fsys, "x", files[2:])
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s was not evicted: %v", p, err)
		}
	}
	if _, err := os.Stat(gotC[0]); err != nil {
		t.Errorf("the file just fetched was evicted: %v", err)
	}

	// All three (600 bytes) exceed the bound, but one call keeps what it needs.
	all, err := c.fetch(ctx, fsys, "x", files)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s needed by the call was evicted: %v", p, err)
		}
	}
	// Another store's file with the same URI is another entry.
	other, err := c.fetch(ctx, fsys, "y", files[:1])
	if err != nil || other[0] == all[0] {
		t.Errorf("stores share a cache entry: %v %v", other, err)
	}
	// A file whose size differs from the manifest's is refused, and nothing is left behind.
	bad := remoteFile{uri: files[0].uri, size: 99}
	if _, err := c.fetch(ctx, fsys, "z", []remoteFile{bad}); err == nil || !strings.Contains(err.Error(), "the manifest says 99") {
		t.Errorf("size mismatch: %v", err)
	}
	entries, _ := os.ReadDir(c.dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), cacheTmpPrefix) {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "512MiB": 512 << 20, "4GiB": 4 << 30, "64KiB": 64 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := parseSize("lots"); err == nil {
		t.Error("parseSize(lots) succeeded")
	}
}
