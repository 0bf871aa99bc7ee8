package transform

import (
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

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
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

func TestLookupReload(t *testing.T) {
	for _, format := range []struct{ name, v1, v2, broken, v3 string }{
		{"items.csv",
			"item_id,item_name,price\nsword,Sword,4.99\n",
			"item_id,item_name,price\nsword,Sword,5.99\nbow,Bow,3\n",
			"item_id,item_name,price\nsword,Sword,cheap\n",
			"item_id,item_name,price\nsword,Sword,6.99\n"},
		{"items.jsonl",
			`{"item_id":"sword","item_name":"Sword","price":4.99}` + "\n",
			`{"item_id":"sword","item_name":"Sword","price":5.99}` + "\n" + `{"item_id":"bow","item_name":"Bow","price":3}` + "\n",
			`{"item_id":"sword","item_name":"Sword","price":5.9` + "\n",
			`{"item_id":"sword","item_name":"Sword","price":6.99}` + "\n"},
	} {
		t.Run(format.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, format.name, format.v1)
			var logs syncBuffer
			p := &config.Pipeline{Enrich: config.Enrich{Lookups: []config.Lookup{{
				File: format.name, Key: "item_id", BaseDir: dir,
				Columns: []config.Column{{Name: "item_name", Type: config.TypeString}, {Name: "price", Type: config.TypeDouble}},
			}}}}
			prg, err := newProgram(p, gameColumns, slog.New(slog.NewTextHandler(&logs, nil)), 5*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer prg.Close()
			clone := prg.Clone()
			// price returns the item's price, -1 for null.
			price := func(prg *Program, item string) float64 {
				vals := purchase(2)
				vals[colItemID] = str(item)
				prg.Apply(vals, meta)
				if v := vals[len(gameColumns)+1]; !v.Null {
					return v.F
				}
				return -1
			}
			if got := price(prg, "sword"); got != 4.99 {
				t.Fatalf("initial price %+v", got)
			}

			rewrite(t, dir, format.name, format.v2)
			waitFor(t, "the reload", func() bool { return price(prg, "sword") == 5.99 })
			if got := price(clone, "bow"); got != 3 {
				t.Errorf("clone after reload: bow %+v, want 3", got)
			}

			rewrite(t, dir, format.name, format.broken)
			waitFor(t, "the failed reload", func() bool {
				return strings.Contains(logs.String(), "reloading lookup file failed")
			})
			if got := price(prg, "sword"); got != 5.99 {
				t.Errorf("after a broken file: sword %+v, want the old 5.99", got)
			}
			if got := price(prg, "bow"); got != 3 {
				t.Errorf("after a broken file: bow %+v, want the old 3", got)
			}

			if err := os.Remove(filepath.Join(dir, format.name)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the missing file to be noticed", func() bool {
				return strings.Contains(logs.String(), "lookup file unreadable")
			})
			if got := price(prg, "sword"); got != 5.99 {
				t.Errorf("without the file: sword %+v, want the old 5.99", got)
			}
			writeFile(t, dir, format.name, format.broken)
			rewrite(t, dir, format.name, format.v3)
			waitFor(t, "the reload after the fix", func() bool { return price(prg, "sword") == 6.99 })
			if got := price(prg, "bow"); got != -1 {
				t.Errorf("bow %+v, want null after it left the file", got)
			}

			prg.Close()
			rewrite(t, dir, format.name, format.v1)
			time.Sleep(30 * time.Millisecond)
			if got := price(prg, "sword"); got != 6.99 {
				t.Errorf("after Close: sword %+v, want no more reloads", got)
			}
		})
	}
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
