package transform

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

func writeFile(t *testing.T, dir, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewrite replaces a file's contents and moves its modification time forward, so the poller sees a new
// version even when the size is unchanged and the file system's clock is coarse.
func rewrite(t *testing.T, dir, name, data string) {
	t.Helper()
	path := filepath.Join(dir, name)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name, data)
	next := fi.ModTime().Add(time.Second)
	if err := os.Chtimes(path, next, next); err != nil {
		t.Fatal(err)
	}
}

var itemColumns = []config.Column{
	{Name: "item_name", Type: config.TypeString},
	{Name: "price", Type: config.TypeDouble},
	{Name: "tier", Type: config.TypeInt},
	{Name: "tradable", Type: config.TypeBoolean},
	{Name: "released", Type: config.TypeDate},
	{Name: "updated_at", Type: config.TypeTimestamp},
}

func TestLookup(t *testing.T) {
	released := time.Date(2025, 11, 3, 0, 0, 0, 0, time.UTC).Unix() / 86400
	updated := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMicro()
	sword := []row.Value{str("Iron Sword"), f64(4.99), i64(2), boolean(true), i64(released), i64(updated)}
	shield := []row.Value{str("Shield, Wooden"), f64(1.5), null, boolean(false), null, null}
	nulls := []row.Value{null, null, null, null, null, null}
	amount, swordPrice, shieldPrice := 4.99, 4.99, 1.5 // variables: Go constant arithmetic is exact
	files := []struct{ name, data string }{
		{"items.csv", "\ufeffitem_id,item_name,price,tier,tradable,released,updated_at,unused\n" +
			"sword,Iron Sword,4.99,2,true,2025-11-03,2026-01-02T03:04:05Z,x\n" +
			"shield,\"Shield, Wooden\",1.5,,0,,,y\n"},
		{"items.jsonl", `{"item_id":"sword","item_name":"Iron Sword","price":4.99,"tier":2,"tradable":true,` +
			`"released":"2025-11-03","updated_at":"2026-01-02T03:04:05Z"}` + "\n\n" +
			`{"item_id":"shield","item_name":"Shield, Wooden","price":"1.5","tier":null,"tradable":false}` + "\n"},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, f.name, f.data)
			p := &config.Pipeline{Enrich: config.Enrich{
				Lookups: []config.Lookup{{File: f.name, Key: "item_id", Columns: itemColumns, BaseDir: dir}},
				Derive: []config.Derived{
					{Name: "spent", Type: config.TypeDouble, Expr: `price != null ? price * amount : 0.0`},
				},
			}}
			prg := mustNew(t, p)
			wantCols := append([]config.Column{{Name: "spent", Type: config.TypeDouble}}, itemColumns...)
			if got := prg.Columns(); !reflect.DeepEqual(got, wantCols) {
				t.Fatalf("Columns = %+v", got)
			}
			for _, tc := range []struct {
				item  row.Value
				want  []row.Value
				spent row.Value
			}{
				{str("sword"), sword, f64(swordPrice * amount)},
				{str("shield"), shield, f64(shieldPrice * amount)},
				{str("axe"), nulls, f64(0)},
				{null, nulls, f64(0)},
			} {
				vals := purchase(7)
				vals[colItemID] = tc.item
				prg.Apply(vals, meta)
				if got := vals[len(gameColumns)+1:]; !reflect.DeepEqual(got, tc.want) {
					t.Errorf("item %q: lookup columns %+v, want %+v", tc.item.S, got, tc.want)
				}
				if got := vals[len(gameColumns)]; !reflect.DeepEqual(got, tc.spent) {
					t.Errorf("item %q: spent %+v, want %+v", tc.item.S, got, tc.spent)
				}
			}
			if got, want := prg.Misses(), map[string]uint64{"lookup:" + f.name: 1}; !reflect.DeepEqual(got, want) {
				t.Errorf("Misses = %v, want %v", got, want)
			}
		})
	}
}

func TestLookupNumericKey(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "seqs.jsonl", `{"seq":1001,"bucket":"a"}`+"\n"+`{"seq":"7","bucket":"b"}`+"\n")
	writeFile(t, dir, "levels.csv", "lvl,band\n57,gold\n")
	p := &config.Pipeline{Enrich: config.Enrich{Lookups: []config.Lookup{
		{File: "seqs.jsonl", Key: "client_seq", KeyColumn: "seq", BaseDir: dir,
			Columns: []config.Column{{Name: "bucket", Type: config.TypeString}}},
		{File: "levels.csv", Key: "level", KeyColumn: "lvl", BaseDir: dir,
			Columns: []config.Column{{Name: "band", Type: config.TypeString}}},
	}}}
	prg := mustNew(t, p)
	vals := purchase(2)
	prg.Apply(vals, meta)
	if got, want := vals[len(gameColumns):], []row.Value{str("a"), str("gold")}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	vals[colClientSeq] = i64(7)
	prg.Apply(vals, meta)
	if got := vals[len(gameColumns)]; !reflect.DeepEqual(got, str("b")) {
		t.Errorf("seq 7: got %+v", got)
	}
}

// reloadColumns are the lookup columns of the reload tests.
var reloadColumns = []config.Column{
	{Name: "item_name", Type: config.TypeString},
	{Name: "price", Type: config.TypeDouble},
}

// newPolled compiles a program with one lookup of dir/name keyed by item_id and no watcher: the test
// polls with prg.s.pollLookups(), so every poll happens exactly where the test says.
func newPolled(t *testing.T, dir, name string, logs *syncBuffer) *Program {
	t.Helper()
	p := &config.Pipeline{Enrich: config.Enrich{Lookups: []config.Lookup{{
		File: name, Key: "item_id", BaseDir: dir, Columns: reloadColumns}}}}
	prg, err := newProgram(p, gameColumns, slog.New(slog.NewTextHandler(logs, nil)), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prg.Close)
	return prg
}

// price returns the looked-up price of item, -1 for null.
func price(prg *Program, item string) float64 {
	vals := purchase(2)
	vals[colItemID] = str(item)
	prg.Apply(vals, meta)
	if v := vals[len(gameColumns)+1]; !v.Null {
		return v.F
	}
	return -1
}

// wantPrices checks the looked-up prices of items, -1 meaning null.
func wantPrices(t *testing.T, prg *Program, when string, want map[string]float64) {
	t.Helper()
	for item, p := range want {
		if got := price(prg, item); got != p {
			t.Errorf("%s: %s %v, want %v", when, item, got, p)
		}
	}
}

func TestLookupReload(t *testing.T) {
	for _, format := range []struct{ name, v1, v2, broken, badUTF8, badUTF8Err, v3, v4 string }{
		{"items.csv",
			"item_id,item_name,price\nsword,Sword,4.99\n",
			"item_id,item_name,price\nsword,Sword,5.99\nbow,Bow,3\n",
			"item_id,item_name,price\nsword,Sword,cheap\n",
			"item_id,item_name,price\nsword,Sw\xe9rd,5.99\n",
			`items.csv:2: byte 9 of the line (0xe9) is not valid UTF-8`,
			"item_id,item_name,price\nsword,Sword,6.99\n",
			"item_id,item_name,price\nsword,Sword,7.99\n"},
		{"items.jsonl",
			`{"item_id":"sword","item_name":"Sword","price":4.99}` + "\n",
			`{"item_id":"sword","item_name":"Sword","price":5.99}` + "\n" + `{"item_id":"bow","item_name":"Bow","price":3}` + "\n",
			`{"item_id":"sword","item_name":"Sword","price":5.9` + "\n",
			"\n" + `{"item_id":"sword","item_name":"Sw` + "\xe9" + `rd","price":5.99}` + "\n",
			`items.jsonl:2: byte 35 of the line (0xe9) is not valid UTF-8`,
			`{"item_id":"sword","item_name":"Sword","price":6.99}` + "\n",
			`{"item_id":"sword","item_name":"Sword","price":7.99}` + "\n"},
	} {
		t.Run(format.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, format.name)
			writeFile(t, dir, format.name, format.v1)
			var logs syncBuffer
			prg := newPolled(t, dir, format.name, &logs)
			poll := prg.s.pollLookups
			clone := prg.Clone()
			wantPrices(t, prg, "initially", map[string]float64{"sword": 4.99, "bow": -1})

			rewrite(t, dir, format.name, format.v2)
			poll()
			wantPrices(t, prg, "a new version seen once", map[string]float64{"sword": 4.99, "bow": -1})
			poll()
			wantPrices(t, prg, "a new version seen twice", map[string]float64{"sword": 5.99, "bow": 3})
			wantPrices(t, clone, "the clone after the reload", map[string]float64{"sword": 5.99, "bow": 3})

			rewrite(t, dir, format.name, format.broken)
			poll()
			poll()
			poll()
			if n := strings.Count(logs.String(), "reloading lookup file failed"); n != 1 {
				t.Errorf("a broken file logged %d times, want once:\n%s", n, logs.String())
			}
			wantPrices(t, prg, "after a broken file", map[string]float64{"sword": 5.99, "bow": 3})

			rewrite(t, dir, format.name, format.badUTF8)
			poll()
			poll()
			if !strings.Contains(logs.String(), format.badUTF8Err) {
				t.Errorf("log does not name the invalid UTF-8 (%s):\n%s", format.badUTF8Err, logs.String())
			}
			wantPrices(t, prg, "after a file with invalid UTF-8", map[string]float64{"sword": 5.99, "bow": 3})

			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			poll()
			poll()
			if n := strings.Count(logs.String(), "lookup file unreadable"); n != 1 {
				t.Errorf("a missing file logged %d times, want once:\n%s", n, logs.String())
			}
			wantPrices(t, prg, "without the file", map[string]float64{"sword": 5.99, "bow": 3})

			writeFile(t, dir, format.name, format.broken)
			rewrite(t, dir, format.name, format.v3)
			poll()
			poll()
			wantPrices(t, prg, "after the fix", map[string]float64{"sword": 6.99, "bow": -1})

			// A file renamed over the lookup file is a new version even with the old size and time.
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "next", format.v4)
			if err := os.Chtimes(filepath.Join(dir, "next"), fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(dir, "next"), path); err != nil {
				t.Fatal(err)
			}
			poll()
			poll()
			wantPrices(t, prg, "after a rename", map[string]float64{"sword": 7.99})
		})
	}
}

// TestLookupReloadHalfWritten is a file rewritten in place as cp and os.WriteFile do: truncated, then
// written in pieces. No poll in between may load what it finds, even when that parses; the complete file
// loads once two polls have found it unchanged.
func TestLookupReloadHalfWritten(t *testing.T) {
	for _, format := range []struct{ name, v1, v2 string }{
		{"items.csv",
			"item_id,item_name,price\nsword,Sword,4.99\nbow,Bow,3\n",
			"item_id,item_name,price\nsword,Sword,5.99\nbow,Bow,3.5\naxe,Axe,7\n"},
		{"items.jsonl",
			`{"item_id":"sword","item_name":"Sword","price":4.99}` + "\n" + `{"item_id":"bow","item_name":"Bow","price":3}` + "\n",
			`{"item_id":"sword","item_name":"Sword","price":5.99}` + "\n" + `{"item_id":"bow","item_name":"Bow","price":3.5}` + "\n" +
				`{"item_id":"axe","item_name":"Axe","price":7}` + "\n"},
	} {
		t.Run(format.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, format.name, format.v1)
			var logs syncBuffer
			prg := newPolled(t, dir, format.name, &logs)
			poll := prg.s.pollLookups
			old := map[string]float64{"sword": 4.99, "bow": 3, "axe": -1}
			lines := strings.SplitAfter(format.v2, "\n")
			for _, part := range []struct{ what, data string }{
				{"empty", ""},
				{"cut inside the first row", lines[0] + lines[1][:10]},
				{"cut after the first row", lines[0] + lines[1]},
				{"cut after the second row", lines[0] + lines[1] + lines[2]},
			} {
				rewrite(t, dir, format.name, part.data)
				poll()
				wantPrices(t, prg, "a file "+part.what, old)
			}
			rewrite(t, dir, format.name, format.v2)
			poll()
			wantPrices(t, prg, "the complete file seen once", old)
			poll()
			wantPrices(t, prg, "the complete file seen twice", map[string]float64{"sword": 5.99, "bow": 3.5, "axe": 7})
			if strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("a half-written file was read:\n%s", logs.String())
			}

			// Truncated and left so for two polls: an empty file is taken only after that second look.
			rewrite(t, dir, format.name, "")
			poll()
			wantPrices(t, prg, "an emptied file seen once", map[string]float64{"sword": 5.99})
		})
	}
}

// TestLookupReadChanged checks that a file read as one version but found to be another is not loaded.
func TestLookupReadChanged(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "items.csv", "item_id,item_name,price\nsword,Sword,4.99\n")
	var logs syncBuffer
	prg := newPolled(t, dir, "items.csv", &logs)
	l := prg.s.lookups[0]
	fi, err := os.Stat(l.path)
	if err != nil {
		t.Fatal(err)
	}
	st := stampOf(fi)
	if _, err := l.load(st); err != nil {
		t.Fatalf("loading the current version: %v", err)
	}
	rewrite(t, dir, "items.csv", "item_id,item_name,price\nsword,Sword,5.99\n")
	if _, err := l.load(st); !errors.Is(err, errChanged) {
		t.Errorf("loading a version that is gone: %v, want %v", err, errChanged)
	}
}

// TestLookupWatcher drives the watcher goroutine with ticks the test sends, and checks that Close stops
// it. An unbuffered send returns only once the watcher has finished the tick before it.
func TestLookupWatcher(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "items.csv", "item_id,item_name,price\nsword,Sword,4.99\n")
	var logs syncBuffer
	prg := newPolled(t, dir, "items.csv", &logs)
	s := prg.s
	ticks := make(chan time.Time)
	s.stop = make(chan struct{})
	s.done.Add(1)
	go s.watchTicks(ticks)

	rewrite(t, dir, "items.csv", "item_id,item_name,price\nsword,Sword,5.99\n")
	ticks <- time.Time{}
	ticks <- time.Time{}
	ticks <- time.Time{} // taken once the second tick's reload is done
	wantPrices(t, prg, "after two ticks", map[string]float64{"sword": 5.99})

	prg.Close()
	prg.Close()
	rewrite(t, dir, "items.csv", "item_id,item_name,price\nsword,Sword,6.99\n")
	select {
	case ticks <- time.Time{}:
		t.Error("the watcher took a tick after Close")
	default:
	}
	wantPrices(t, prg, "after Close", map[string]float64{"sword": 5.99})
}

func TestLookupFileErrors(t *testing.T) {
	tests := []struct {
		file, data string
		columns    []config.Column
		want       string
	}{
		{"a.csv", "item_id,price\nsword,abc\n", []config.Column{{Name: "price", Type: config.TypeDouble}},
			`a.csv:2: column "price": "abc" is not a valid double`},
		{"a.csv", "item_id,tier\nsword,3000000000\n", []config.Column{{Name: "tier", Type: config.TypeInt}},
			`a.csv:2: column "tier": "3000000000" is not a valid int`},
		{"a.csv", "item_id,d\nsword,03/11/2025\n", []config.Column{{Name: "d", Type: config.TypeDate}},
			`a.csv:2: column "d": "03/11/2025" is not a date (YYYY-MM-DD)`},
		{"a.csv", "item_id,n\nsword,a\nshield,b\nsword,c\n", []config.Column{{Name: "n", Type: config.TypeString}},
			`a.csv:4: key "sword" already on line 2`},
		{"a.csv", "sku,n\nsword,a\n", []config.Column{{Name: "n", Type: config.TypeString}},
			`a.csv: no key column "item_id" in the header`},
		{"a.csv", "", []config.Column{{Name: "n", Type: config.TypeString}}, `a.csv: no header row`},
		{"a.jsonl", `{"item_id":"sword","n":[1]}`, []config.Column{{Name: "n", Type: config.TypeString}},
			`a.jsonl:1: column "n": JSON array does not fit a string column`},
		{"a.jsonl", `{"n":"x"}`, []config.Column{{Name: "n", Type: config.TypeString}},
			`a.jsonl:1: key "item_id": missing, null or not a scalar`},
		{"a.jsonl", "{\"item_id\":\"a\"}\n[1]\n", []config.Column{{Name: "n", Type: config.TypeString}},
			`a.jsonl:2: json: cannot unmarshal array`},
		{"a.jsonl", `{"item_id":"a","t":12}`, []config.Column{{Name: "t", Type: config.TypeTimestamp}},
			`a.jsonl:1: column "t": JSON number does not fit a timestamp column`},
		{"a.csv", "item_id,n\nsword,ok\nshield,a\xc3\x28b\n", []config.Column{{Name: "n", Type: config.TypeString}},
			`a.csv:3: byte 9 of the line (0xc3) is not valid UTF-8`},
		{"a.csv", "item_id,n\n\xffsword,x\n", []config.Column{{Name: "n", Type: config.TypeString}},
			`a.csv:2: byte 1 of the line (0xff) is not valid UTF-8`},
		{"a.jsonl", "{\"item_id\":\"sword\",\"n\":\"utf\xff\xfe\"}\n", []config.Column{{Name: "n", Type: config.TypeString}},
			`a.jsonl:1: byte 28 of the line (0xff) is not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, tt.file, tt.data)
			p := &config.Pipeline{Enrich: config.Enrich{Lookups: []config.Lookup{{
				File: tt.file, Key: "item_id", BaseDir: dir, Columns: tt.columns}}}}
			_, err := newProgram(p, gameColumns, nil, 0)
			want := `enrich.lookups[0] "` + tt.file + `": ` + tt.want
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %v\nwant prefix %s", err, want)
			}
		})
	}
}
