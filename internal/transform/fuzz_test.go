package transform

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// Fuzz targets for the record path of this package: CEL evaluation over fuzzed column values and Kafka
// metadata, and the lookup file parsers. Their seeds run in every go test; run one for longer with
//
//	go test ./internal/transform/ -run '^$' -fuzz '^FuzzApply$' -fuzztime 5m -parallel 1

// fuzzPipeline derives columns of every type from string operations, arithmetic on nullable columns, the
// Kafka metadata and timestamps, and has filters and routes over them.
var fuzzPipeline = &config.Pipeline{
	Enrich: config.Enrich{Derive: []config.Derived{
		{Name: "key", Type: config.TypeString, Expr: `kafka.key`},
		{Name: "label", Type: config.TypeString, Expr: `country + "-" + platform.upperAscii() + "-" + kafka.topic`},
		{Name: "key_head", Type: config.TypeString,
			Expr: `kafka.key == null ? "none" : kafka.key.lowerAscii().substring(0, size(kafka.key) < 3 ? size(kafka.key) : 3)`},
		{Name: "item_parts", Type: config.TypeString, Expr: `item_id.split("_").join("-").replace("a", "ä").trim()`},
		{Name: "player_rev", Type: config.TypeString, Expr: `player_id.reverse() + event_id.charAt(0)`},
		{Name: "formatted", Type: config.TypeString, Expr: `"%s/%d/%.2f".format([currency, level, amount])`},
		{Name: "when", Type: config.TypeString, Expr: `string(event_time)`},
		{Name: "key_len", Type: config.TypeLong, Expr: `size(kafka.key) + kafka.key.indexOf("-")`},
		{Name: "krw", Type: config.TypeDouble, Expr: `amount != null ? amount * 1100.0 : 0.0`},
		{Name: "third", Type: config.TypeFloat, Expr: `amount / 3.0`},
		{Name: "rounded", Type: config.TypeDouble, Expr: `math.round(amount) + double(level)`},
		{Name: "seq_at", Type: config.TypeLong, Expr: `client_seq * 2 + kafka.offset`},
		{Name: "lvl", Type: config.TypeInt, Expr: `level + kafka.partition`},
		{Name: "late", Type: config.TypeBoolean, Expr: `kafka.timestamp != null && kafka.timestamp - event_time > duration("1h")`},
		{Name: "later", Type: config.TypeTimestamp, Expr: `event_time + duration("1h")`},
		{Name: "received", Type: config.TypeTimestamp, Expr: `kafka.timestamp`},
		{Name: "day", Type: config.TypeDate, Expr: `event_time`},
		{Name: "hour", Type: config.TypeInt, Expr: `event_time.getHours("Asia/Kolkata")`},
		{Name: "secs", Type: config.TypeLong, Expr: `int(event_time)`},
		{Name: "whale", Type: config.TypeBoolean, Expr: `krw > 100000.0 || key_len > 10`},
	}},
	Filters: []config.Filter{
		{Name: "test_accounts", Drop: `player_id.startsWith("test-")`},
		{Name: "partition", Drop: `kafka.partition == 9 || (kafka.key != null && kafka.key.contains("drop"))`},
	},
	Routes: []config.Route{
		{Table: "s.purchases", EventTypes: []string{"purchase"}},
		{Table: "s.whales", When: `whale`},
		{Table: "s.kr", When: `country == "KR" && kafka.topic.endsWith(".events")`},
	},
}

// fuzzNullable are the nullable gameColumns FuzzApply's mask may set to null, one bit each.
var fuzzNullable = []int{colLevel, colItemID, colAmount, colCurrency, colPlatform, colCountry, colClientSeq}

// FuzzApply evaluates fuzzPipeline over fuzzed column values (any bytes in strings, any numbers, nulls by a
// mask) and Kafka metadata (key bytes or no key, topic, partition, offset, timestamp or none). It asserts
// that nothing panics and that:
//   - kafka.key reaches a string column as the key's exact bytes (null without a key): a derived string is
//     whatever CEL gives, even not UTF-8, which the stage rejects afterwards (invalid_utf8);
//   - when every string that goes in is valid UTF-8, every derived string is too;
//   - derived values fit their columns (int in 32 bits, float in float32's range or infinite, bool 0 or 1);
//   - Apply and Routes give the same results run again, and on a Clone.
func FuzzApply(f *testing.F) {
	f.Add("e-1", "p-42", "sword_01", "USD", "ios", "KR", int32(57), int64(1001), 4.99, eventTime.UnixMicro(),
		uint16(0), []byte("p-42"), "game.events", int32(3), int64(12345), meta.Timestamp.UnixMilli())
	f.Add("", "test-1", "", "", "", "", int32(math.MaxInt32), int64(math.MaxInt64), math.Inf(1), int64(math.MaxInt64),
		uint16(0xffff), []byte(nil), "", int32(-1), int64(math.MinInt64), int64(0))
	f.Add("é", "p\xff", "a_\xc3", "\xed\xa0\x80", "İ", "\U0010ffff", int32(math.MinInt32), int64(math.MinInt64), math.NaN(),
		int64(math.MinInt64), uint16(1<<7), []byte("a\xffdrop-b"), "backfill:x.jsonl", int32(9), int64(-1), int64(-62135596800001))
	f.Add("e", "p", "i", "KRW", "pc", "JP", int32(1), int64(1), -0.0, int64(253402300799999999),
		uint16(1<<8), []byte("ab"), "t", int32(0), int64(0), int64(253402300800000))
	prg, err := newProgram(fuzzPipeline, gameColumns, nil, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(prg.Close)
	cols := prg.Columns()
	base := len(gameColumns)
	f.Fuzz(func(t *testing.T, eventID, playerID, itemID, currency, platform, country string, level int32,
		clientSeq int64, amount float64, eventMicros int64, nulls uint16, key []byte, topic string,
		partition int32, offset, tsMillis int64) {
		vals := purchase(len(cols))
		vals[colEventID], vals[colPlayerID], vals[colItemID] = str(eventID), str(playerID), str(itemID)
		vals[colCurrency], vals[colPlatform], vals[colCountry] = str(currency), str(platform), str(country)
		vals[colLevel], vals[colClientSeq], vals[colAmount] = i64(int64(level)), i64(clientSeq), f64(amount)
		vals[colEventTime] = i64(eventMicros)
		for bit, i := range fuzzNullable {
			if nulls&(1<<bit) != 0 {
				vals[i] = null
			}
		}
		m := row.Meta{Topic: topic, Partition: partition, Offset: offset, Key: key}
		if nulls&(1<<len(fuzzNullable)) == 0 {
			m.Timestamp = time.UnixMilli(tsMillis)
		}
		if nulls&(1<<(len(fuzzNullable)+1)) != 0 {
			m.Key = nil
		} else if m.Key == nil {
			m.Key = []byte{}
		}
		validIn := utf8.ValidString(topic) && utf8.Valid(m.Key)
		for _, i := range []int{colEventID, colPlayerID, colItemID, colCurrency, colPlatform, colCountry} {
			validIn = validIn && utf8.Valid(vals[i].S)
		}

		drop, routes := apply(prg, vals, m)
		extra := vals[base:]
		if k := extra[0]; (m.Key == nil) != k.Null || !bytes.Equal(k.S, m.Key) {
			t.Fatalf("kafka.key %q became %+v", m.Key, k)
		}
		for i, c := range cols {
			v := extra[i]
			if v.Null {
				continue
			}
			bad := func(why string) {
				t.Helper()
				t.Fatalf("derived %s (%s) = %+v: %s\nrecord %+v\nmeta %+v", c.Name, c.Type, v, why, vals[:base], m)
			}
			switch c.Type {
			case config.TypeString:
				if validIn && !utf8.Valid(v.S) {
					bad("not valid UTF-8, from valid UTF-8 inputs")
				}
			case config.TypeInt:
				if v.I < math.MinInt32 || v.I > math.MaxInt32 {
					bad("out of the int range")
				}
			case config.TypeFloat:
				if math.Abs(v.F) > math.MaxFloat32 && !math.IsInf(v.F, 0) || !math.IsNaN(v.F) && float64(float32(v.F)) != v.F {
					bad("not a float32 value")
				}
			case config.TypeBoolean:
				if v.I != 0 && v.I != 1 {
					bad("a boolean that is neither 0 nor 1")
				}
			}
		}

		again := slices.Clone(vals)
		drop2, routes2 := apply(prg, again, m)
		sameApply(t, "applied again", vals, drop, routes, again, drop2, routes2)
		cloned := slices.Clone(vals)
		drop3, routes3 := apply(prg.Clone(), cloned, m)
		sameApply(t, "clone", vals, drop, routes, cloned, drop3, routes3)
	})
}

// apply runs Apply and, for a kept record, Routes; derived strings are copied out of CEL's results.
func apply(prg *Program, vals []row.Value, m row.Meta) (int, []int) {
	drop := prg.Apply(vals, m)
	for i := range vals {
		vals[i].S = bytes.Clone(vals[i].S)
	}
	if drop >= 0 {
		return drop, nil
	}
	return drop, prg.Routes(vals, m, "purchase", nil)
}

func sameApply(t *testing.T, what string, vals []row.Value, drop int, routes []int, vals2 []row.Value, drop2 int, routes2 []int) {
	t.Helper()
	if drop != drop2 || !slices.Equal(routes, routes2) {
		t.Fatalf("%s: dropped by %d and routed to %v, then %d and %v", what, drop, routes, drop2, routes2)
	}
	for i := range vals {
		a, b := vals[i], vals2[i]
		if a.Null != b.Null || a.I != b.I || math.Float64bits(a.F) != math.Float64bits(b.F) && !(math.IsNaN(a.F) && math.IsNaN(b.F)) || !bytes.Equal(a.S, b.S) {
			t.Fatalf("%s: column %d is %+v, then %+v", what, i, a, b)
		}
	}
}

// fuzzLookupColumns are a lookup's columns of every type.
var fuzzLookupColumns = []config.Column{
	{Name: "name", Type: config.TypeString}, {Name: "price", Type: config.TypeDouble},
	{Name: "qty", Type: config.TypeInt}, {Name: "big", Type: config.TypeLong}, {Name: "f", Type: config.TypeFloat},
	{Name: "ok", Type: config.TypeBoolean}, {Name: "ts", Type: config.TypeTimestamp}, {Name: "day", Type: config.TypeDate},
}

// parseLookup parses data as the lookup file named file, as lookup.load does after reading it.
func parseLookup(file string, data []byte) (*refTable, error) {
	l := &lookup{file: file, path: file, keyColumn: "item", columns: fuzzLookupColumns}
	if err := l.checkUTF8(data); err != nil {
		return nil, err
	}
	t := &refTable{rows: make(map[string][]row.Value)}
	add := func(line int, key string, vals []row.Value) error {
		if _, dup := t.rows[key]; dup {
			return fmt.Errorf("%s:%d: key %q twice", file, line, key)
		}
		t.rows[key] = vals
		return nil
	}
	var err error
	if l.format() == "csv" {
		err = l.parseCSV(data, add)
	} else {
		err = l.parseJSONL(data, add)
	}
	return t, err
}

// checkLookup parses data twice and holds a table it accepts to its columns: keys and strings valid UTF-8
// (a file that is not is refused), ints in 32 bits, finite numbers, floats in float32, booleans 0 or 1.
func checkLookup(t *testing.T, file string, data []byte) {
	tab, err := parseLookup(file, data)
	tab2, err2 := parseLookup(file, data)
	if (err == nil) != (err2 == nil) {
		t.Fatalf("%q: parsed with %v, then %v", data, err, err2)
	}
	if err != nil {
		return
	}
	if !utf8.Valid(data) {
		t.Fatalf("%q: accepted a file that is not valid UTF-8", data)
	}
	if len(tab.rows) != len(tab2.rows) {
		t.Fatalf("%q: %d rows, then %d", data, len(tab.rows), len(tab2.rows))
	}
	for key, vals := range tab.rows {
		if !utf8.ValidString(key) {
			t.Fatalf("%q: key %q is not valid UTF-8", data, key)
		}
		if len(vals) != len(fuzzLookupColumns) {
			t.Fatalf("%q: key %q has %d values", data, key, len(vals))
		}
		for i, c := range fuzzLookupColumns {
			v := vals[i]
			bad := func(why string) {
				t.Helper()
				t.Fatalf("%q: key %q, column %s (%s) = %+v: %s", data, key, c.Name, c.Type, v, why)
			}
			if v2 := tab2.rows[key][i]; v.Null != v2.Null || v.I != v2.I || v.F != v2.F || !bytes.Equal(v.S, v2.S) {
				bad(fmt.Sprintf("then %+v", v2))
			}
			if v.Null {
				continue
			}
			switch c.Type {
			case config.TypeString:
				if !utf8.Valid(v.S) || cap(v.S) != len(v.S) {
					bad("not valid UTF-8, or not clipped")
				}
			case config.TypeInt:
				if v.I < math.MinInt32 || v.I > math.MaxInt32 {
					bad("out of the int range")
				}
			case config.TypeDouble:
				if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
					bad("not finite")
				}
			case config.TypeFloat:
				if math.IsNaN(v.F) || math.Abs(v.F) > math.MaxFloat32 || float64(float32(v.F)) != v.F {
					bad("not a float32 value")
				}
			case config.TypeBoolean:
				if v.I != 0 && v.I != 1 {
					bad("a boolean that is neither 0 nor 1")
				}
			}
		}
	}
}

// FuzzLookupCSV parses fuzzed CSV lookup files; see checkLookup.
func FuzzLookupCSV(f *testing.F) {
	for _, s := range []string{
		"item,name,price,qty,big,f,ok,ts,day\nsword,Sword,5.99,1,9223372036854775807,1.5,true,2026-01-02T03:04:05Z,2026-01-02\n",
		"\ufeffitem , name,price,qty,big,f,ok,ts,day\r\n\"a,b\",\"x\"\"y\",,,,,,,\n42,é,1e308,-2147483648,-1,3.4e38,0,1969-12-31T23:59:59.999999Z,1969-12-31\n",
		"item,name,price,qty,big,f,ok,ts,day\nx,\xff,1,1,1,1,1,2026-01-02T03:04:05Z,2026-01-02\n",
		"item,name,price,qty,big,f,ok,ts,day\nx,a,NaN,2147483648,1,3.5e38,yes,x,2026-02-30\n",
		"item,name,price,qty,big,f,ok,ts,day\nx,a,,,,,,,\nx,b,,,,,,,\n",
		"item,name\n\"unterminated\n", "", "item\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkLookup(t, "prices.csv", data) })
}

// FuzzLookupJSONL parses fuzzed JSON Lines lookup files; see checkLookup.
func FuzzLookupJSONL(f *testing.F) {
	for _, s := range []string{
		`{"item":"sword","name":"Sword","price":5.99,"qty":1,"big":9223372036854775807,"f":1.5,"ok":true,"ts":"2026-01-02T03:04:05Z","day":"2026-01-02"}` + "\n",
		"\n  {\"item\":42,\"name\":null,\"price\":\"4.99\",\"qty\":\"7\"}\r\n{\"item\":true,\"name\":7,\"ok\":false}\n",
		`{"item":"a\ud800","name":"\u0000\"\\"}`, `{"item":"x","name":"\xff"}`, `{"item":"x"} {"item":"y"}`,
		`{"item":"x","qty":2147483648}`, `{"item":"x","f":1e39}`, `{"item":"x","price":1e400}`, `[1]`, `null`,
		`{"item":{"a":1}}`, `{"item":"x","name":[1]}`, `{"item":"x"}` + "\n" + `{"item":"x"}`, `{"item":"x","ok":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkLookup(t, "prices.jsonl", data) })
}
