package transform

import (
	"bytes"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// gameColumns are the demo game event's columns plus a date column.
var gameColumns = []config.Column{
	{Name: "event_id", Type: config.TypeString, Required: true},
	{Name: "event_time", Type: config.TypeTimestamp, Required: true},
	{Name: "player_id", Type: config.TypeString, Required: true},
	{Name: "event_type", Type: config.TypeString, Required: true},
	{Name: "level", Type: config.TypeInt},
	{Name: "item_id", Type: config.TypeString},
	{Name: "amount", Type: config.TypeDouble},
	{Name: "currency", Type: config.TypeString},
	{Name: "platform", Type: config.TypeString},
	{Name: "country", Type: config.TypeString},
	{Name: "client_seq", Type: config.TypeLong},
}

// Column indexes of gameColumns.
const (
	colEventID = iota
	colEventTime
	colPlayerID
	colEventType
	colLevel
	colItemID
	colAmount
	colCurrency
	colPlatform
	colCountry
	colClientSeq
)

var eventTime = time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC)

func str(s string) row.Value  { return row.Value{S: []byte(s)} }
func i64(n int64) row.Value   { return row.Value{I: n} }
func f64(f float64) row.Value { return row.Value{F: f} }
func boolean(b bool) row.Value {
	if b {
		return row.Value{I: 1}
	}
	return row.Value{}
}

var null = row.Value{Null: true}

// purchase returns a purchase event's base values; extra is room for the program's columns.
func purchase(extra int) []row.Value {
	vals := []row.Value{
		str("e-1"), i64(eventTime.UnixMicro()), str("p-42"), str("purchase"), i64(57), str("sword"),
		f64(4.99), str("USD"), str("ios"), str("KR"), i64(1001),
	}
	return append(vals, make([]row.Value, extra)...)
}

var meta = row.Meta{
	Topic:     "game.events",
	Partition: 3,
	Offset:    12345,
	Timestamp: time.Date(2026, 3, 14, 15, 9, 27, 0, time.UTC),
	Key:       []byte("p-42"),
}

// mustNew compiles p over gameColumns and closes the program at the end of the test.
func mustNew(t *testing.T, p *config.Pipeline) *Program {
	t.Helper()
	prg, err := newProgram(p, gameColumns, nil, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(prg.Close)
	return prg
}

func derive(name string, typ config.ColumnType, expr string) *config.Pipeline {
	return &config.Pipeline{Enrich: config.Enrich{Derive: []config.Derived{{Name: name, Type: typ, Expr: expr}}}}
}

func TestDerived(t *testing.T) {
	day := func(tm time.Time) int64 { return tm.Unix() / 86400 }
	tests := []struct {
		name    string
		typ     config.ColumnType
		expr    string
		edit    func(vals []row.Value, m *row.Meta) // changes to the purchase record
		want    row.Value
		wantErr uint64 // evaluation errors counted
	}{
		{name: "s", typ: config.TypeString, expr: `country + "-" + platform.upperAscii()`, want: str("KR-IOS")},
		{name: "l", typ: config.TypeLong, expr: `client_seq * 2`, want: i64(2002)},
		{name: "i", typ: config.TypeInt, expr: `level + 1`, want: i64(58)},
		{name: "i_range", typ: config.TypeInt, expr: `client_seq * 10000000`, want: null, wantErr: 1},
		{name: "d", typ: config.TypeDouble, expr: `amount * 1100.0`, want: f64(4.99 * 1100)},
		{name: "f", typ: config.TypeFloat, expr: `amount / 3.0`, want: f64(float64(float32(4.99 / 3)))},
		{name: "b", typ: config.TypeBoolean, expr: `level >= 50`, want: boolean(true)},
		{name: "b_false", typ: config.TypeBoolean, expr: `level >= 60`, want: boolean(false)},
		{name: "ts", typ: config.TypeTimestamp, expr: `event_time + duration("1h")`,
			want: i64(eventTime.Add(time.Hour).UnixMicro())},
		{name: "date", typ: config.TypeDate, expr: `event_time`, want: i64(day(eventTime))},
		{name: "date_before_1970", typ: config.TypeDate, expr: `timestamp("1969-12-31T23:00:00Z")`, want: i64(-1)},
		{name: "ts_part", typ: config.TypeInt, expr: `event_time.getHours()`, want: i64(15)},

		{name: "topic", typ: config.TypeString, expr: `kafka.topic`, want: str("game.events")},
		{name: "partition", typ: config.TypeInt, expr: `kafka.partition`, want: i64(3)},
		{name: "offset", typ: config.TypeLong, expr: `kafka.offset + 1`, want: i64(12346)},
		{name: "kafka_ts", typ: config.TypeTimestamp, expr: `kafka.timestamp`, want: i64(meta.Timestamp.UnixMicro())},
		{name: "lag_ms", typ: config.TypeLong, expr: `(kafka.timestamp - event_time).getMilliseconds()`, want: i64(465)},
		{name: "key", typ: config.TypeString, expr: `kafka.key`, want: str("p-42")},
		{name: "key_null", typ: config.TypeString, expr: `kafka.key`,
			edit: func(_ []row.Value, m *row.Meta) { m.Key = nil }, want: null},
		{name: "has_key", typ: config.TypeBoolean, expr: `has(kafka.key)`,
			edit: func(_ []row.Value, m *row.Meta) { m.Key = nil }, want: boolean(false)},
		{name: "kafka_dyn", typ: config.TypeString, expr: `dyn(kafka)["topic"] + ":" + string(dyn(kafka).partition)`,
			want: str("game.events:3")},
		{name: "kafka_ts_null", typ: config.TypeBoolean, expr: `kafka.timestamp == null`,
			edit: func(_ []row.Value, m *row.Meta) { m.Timestamp = time.Time{} }, want: boolean(true)},

		// Nulls.
		{name: "guarded", typ: config.TypeDouble, expr: `amount != null ? amount * 1100.0 : 0.0`,
			edit: func(v []row.Value, _ *row.Meta) { v[colAmount] = null }, want: f64(0)},
		{name: "null_preserving", typ: config.TypeDouble, expr: `amount == null ? amount : amount * 1100.0`,
			edit: func(v []row.Value, _ *row.Meta) { v[colAmount] = null }, want: null},
		{name: "unguarded", typ: config.TypeDouble, expr: `amount * 1100.0`,
			edit: func(v []row.Value, _ *row.Meta) { v[colAmount] = null }, want: null, wantErr: 1},
		{name: "null_compare", typ: config.TypeBoolean, expr: `level >= 50`,
			edit: func(v []row.Value, _ *row.Meta) { v[colLevel] = null }, want: null, wantErr: 1},
		{name: "null_string", typ: config.TypeBoolean, expr: `country == null`,
			edit: func(v []row.Value, _ *row.Meta) { v[colCountry] = null }, want: boolean(true)},
		{name: "null_string_eq", typ: config.TypeBoolean, expr: `country == "KR"`,
			edit: func(v []row.Value, _ *row.Meta) { v[colCountry] = null }, want: boolean(false)},
		{name: "null_timestamp", typ: config.TypeBoolean, expr: `event_time == null`,
			edit: func(v []row.Value, _ *row.Meta) { v[colEventTime] = null }, want: boolean(true)},
		{name: "null_literal", typ: config.TypeString, expr: `null`, want: null},
		{name: "dyn_mismatch", typ: config.TypeDouble, expr: `dyn(level)`, want: null, wantErr: 1},
		{name: "dyn_ok", typ: config.TypeDouble, expr: `dyn(amount)`, want: f64(4.99)},
		{name: "div_zero", typ: config.TypeLong, expr: `client_seq / (level - 57)`, want: null, wantErr: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prg := mustNew(t, derive(tt.name, tt.typ, tt.expr))
			vals := purchase(1)
			m := meta
			if tt.edit != nil {
				tt.edit(vals, &m)
			}
			if drop := prg.Apply(vals, m); drop != -1 {
				t.Fatalf("Apply = %d, want -1", drop)
			}
			if got := vals[len(gameColumns)]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %+v, want %+v", tt.expr, got, tt.want)
			}
			if got := prg.Errors()["derive:"+tt.name]; got != tt.wantErr {
				t.Errorf("errors = %d, want %d", got, tt.wantErr)
			}
		})
	}
}

func TestDerivedChain(t *testing.T) {
	p := &config.Pipeline{Enrich: config.Enrich{Derive: []config.Derived{
		{Name: "amount_krw", Type: config.TypeDouble, Expr: `amount != null ? amount * 1100.0 : 0.0`},
		{Name: "is_whale", Type: config.TypeBoolean, Expr: `amount_krw > 5000.0`},
		{Name: "label", Type: config.TypeString, Expr: `is_whale ? "whale" : "minnow"`},
	}}}
	prg := mustNew(t, p)
	want := []config.Column{
		{Name: "amount_krw", Type: config.TypeDouble},
		{Name: "is_whale", Type: config.TypeBoolean},
		{Name: "label", Type: config.TypeString},
	}
	if got := prg.Columns(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Columns = %+v, want %+v", got, want)
	}
	for _, tc := range []struct {
		amount row.Value
		want   []row.Value
	}{
		{f64(4.99), []row.Value{f64(4.99 * 1100), boolean(true), str("whale")}},
		{f64(1), []row.Value{f64(1100), boolean(false), str("minnow")}},
		{null, []row.Value{f64(0), boolean(false), str("minnow")}},
	} {
		vals := purchase(3)
		vals[colAmount] = tc.amount
		prg.Apply(vals, meta)
		if got := vals[len(gameColumns):]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("amount %+v: got %+v, want %+v", tc.amount, got, tc.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "items.csv", "item_id,item_name\nsword,Sword\n")
	tests := []struct {
		name string
		p    config.Pipeline
		want string // prefix of the error
	}{
		{"undeclared", config.Pipeline{Enrich: config.Enrich{Derive: []config.Derived{
			{Name: "amount_krw", Type: config.TypeDouble, Expr: "amount * 1100.0"},
			{Name: "is_whale", Type: config.TypeBoolean, Expr: "amout > 10.0"},
		}}}, `enrich.derive[1] "is_whale": compiling "amout > 10.0": ERROR: <input>:1:1: undeclared reference to 'amout'`},
		{"later column", config.Pipeline{Enrich: config.Enrich{Derive: []config.Derived{
			{Name: "a", Type: config.TypeBoolean, Expr: "b"},
			{Name: "b", Type: config.TypeBoolean, Expr: "true"},
		}}}, `enrich.derive[0] "a": compiling "b": ERROR: <input>:1:1: undeclared reference to 'b'`},
		{"syntax", *derive("x", config.TypeLong, "level +"),
			`enrich.derive[0] "x": compiling "level +": ERROR: <input>:1:8: Syntax error`},
		{"type", *derive("n", config.TypeLong, `"x"`),
			`enrich.derive[0] "n": expression "\"x\"" has type string, but a long column needs int`},
		{"int is not double", *derive("d", config.TypeDouble, `level * 2`),
			`enrich.derive[0] "d": expression "level * 2" has type int, but a double column needs double`},
		{"timestamp", *derive("t", config.TypeTimestamp, `kafka.offset`),
			`enrich.derive[0] "t": expression "kafka.offset" has type int, but a timestamp column needs google.protobuf.Timestamp`},
		{"unknown field", *derive("t", config.TypeString, `kafka.headers`),
			`enrich.derive[0] "t": compiling "kafka.headers": ERROR: <input>:1:6: undefined field 'headers'`},
		{"empty", *derive("e", config.TypeString, ``), `enrich.derive[0] "e": expression is empty`},
		{"duplicate", *derive("level", config.TypeInt, `1`),
			`enrich.derive[0] "level": column "level" already exists as a record column`},
		{"reserved", *derive("kafka", config.TypeInt, `1`),
			`enrich.derive[0] "kafka": column name "kafka" is reserved for the Kafka metadata`},
		{"bad type", *derive("x", "uuid", `1`), `enrich.derive[0] "x": column "x": unknown type "uuid"`},
		{"filter type", config.Pipeline{Filters: []config.Filter{{Name: "tests", Drop: "level"}}},
			`filters[0] "tests": expression "level" has type wrapper(int), want bool`},
		{"filter undeclared", config.Pipeline{Filters: []config.Filter{{Name: "x", Drop: "nope"}}},
			`filters[0] "x": compiling "nope": ERROR: <input>:1:1: undeclared reference to 'nope'`},
		{"route", config.Pipeline{Routes: []config.Route{{Table: "staging.big", When: "amount > 10"}}},
			`routes[0] "staging.big": compiling "amount > 10": ERROR: <input>:1:8: found no matching overload for '_>_'`},
		{"lookup key", config.Pipeline{Enrich: config.Enrich{Lookups: []config.Lookup{{
			File: "items.csv", Key: "sku", BaseDir: dir,
			Columns: []config.Column{{Name: "item_name", Type: config.TypeString}}}}}},
			`enrich.lookups[0] "items.csv": key "sku" is not a record column`},
		{"lookup file", config.Pipeline{Enrich: config.Enrich{Lookups: []config.Lookup{{
			File: "missing.csv", Key: "item_id", BaseDir: dir,
			Columns: []config.Column{{Name: "item_name", Type: config.TypeString}}}}}},
			`enrich.lookups[0] "missing.csv": stat `},
		{"lookup column", config.Pipeline{Enrich: config.Enrich{Lookups: []config.Lookup{{
			File: "items.csv", Key: "item_id", BaseDir: dir,
			Columns: []config.Column{{Name: "price", Type: config.TypeDouble}}}}}},
			`enrich.lookups[0] "items.csv": items.csv: no column "price" in the header`},
		{"lookup format", config.Pipeline{Enrich: config.Enrich{Lookups: []config.Lookup{{
			File: "items.xml", Key: "item_id", BaseDir: dir,
			Columns: []config.Column{{Name: "item_name", Type: config.TypeString}}}}}},
			`enrich.lookups[0] "items.xml": unknown file format ".xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newProgram(&tt.p, gameColumns, nil, 0)
			if err == nil {
				t.Fatalf("New succeeded, want error %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n%s\nwant prefix:\n%s", err, tt.want)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	p := &config.Pipeline{Filters: []config.Filter{
		{Name: "test_accounts", Drop: `player_id.startsWith("test-")`},
		{Name: "low_level", Drop: `level < 5`},
		{Drop: `kafka.partition == 9`},
	}}
	prg := mustNew(t, p)
	if got, want := prg.FilterNames(), []string{"test_accounts", "low_level", "filters[2]"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("FilterNames = %v, want %v", got, want)
	}
	tests := []struct {
		name string
		edit func(v []row.Value, m *row.Meta)
		want int
	}{
		{"kept", nil, -1},
		{"test account", func(v []row.Value, _ *row.Meta) { v[colPlayerID] = str("test-1") }, 0},
		{"first rule wins", func(v []row.Value, _ *row.Meta) { v[colPlayerID], v[colLevel] = str("test-1"), i64(1) }, 0},
		{"low level", func(v []row.Value, _ *row.Meta) { v[colLevel] = i64(4) }, 1},
		{"null level is kept", func(v []row.Value, _ *row.Meta) { v[colLevel] = null }, -1},
		{"partition", func(_ []row.Value, m *row.Meta) { m.Partition = 9 }, 2},
	}
	drops := make([]int, len(p.Filters))
	for _, tt := range tests {
		vals := purchase(0)
		m := meta
		if tt.edit != nil {
			tt.edit(vals, &m)
		}
		got := prg.Apply(vals, m)
		if got != tt.want {
			t.Errorf("%s: Apply = %d, want %d", tt.name, got, tt.want)
		}
		if got >= 0 {
			drops[got]++
		}
	}
	if want := []int{2, 1, 1}; !reflect.DeepEqual(drops, want) {
		t.Errorf("drops per rule = %v, want %v", drops, want)
	}
	want := map[string]uint64{"filter:test_accounts": 0, "filter:low_level": 1, "filter:filters[2]": 0}
	if got := prg.Errors(); !reflect.DeepEqual(got, want) {
		t.Errorf("Errors = %v, want %v", got, want)
	}
}

func TestRoutes(t *testing.T) {
	p := &config.Pipeline{
		Enrich: config.Enrich{Derive: []config.Derived{{Name: "veteran", Type: config.TypeBoolean, Expr: `level >= 50`}}},
		Routes: []config.Route{
			{Table: "staging.purchases", EventTypes: []string{"purchase", "refund"}},
			{Table: "staging.whales", When: `amount > 100.0`},
			{Table: "staging.veteran_purchases", EventTypes: []string{"purchase"}, When: `veteran`},
			{Table: "staging.kr", When: `country == "KR" && kafka.topic == "game.events"`},
			{Table: "staging.all"},
		},
	}
	prg := mustNew(t, p)
	tests := []struct {
		name      string
		edit      func(v []row.Value)
		eventType string
		want      []int
	}{
		{"purchase", nil, "purchase", []int{0, 2, 3, 4}},
		{"refund", nil, "refund", []int{0, 3, 4}},
		{"login", func(v []row.Value) { v[colEventType], v[colAmount] = str("login"), null }, "login", []int{3, 4}},
		{"whale", func(v []row.Value) { v[colAmount] = f64(150) }, "purchase", []int{0, 1, 2, 3, 4}},
		{"young", func(v []row.Value) { v[colLevel], v[colCountry] = i64(3), str("JP") }, "purchase", []int{0, 4}},
		{"null level", func(v []row.Value) { v[colLevel] = null }, "purchase", []int{0, 3, 4}},
	}
	dst := make([]int, 0, 8)
	for _, tt := range tests {
		vals := purchase(1)
		if tt.edit != nil {
			tt.edit(vals)
		}
		prg.Apply(vals, meta)
		dst = prg.Routes(vals, meta, tt.eventType, dst)
		if !reflect.DeepEqual(dst, tt.want) {
			t.Errorf("%s: Routes = %v, want %v", tt.name, dst, tt.want)
		}
	}
	// The login has a null amount: `amount > 100.0` fails, is counted and does not match.
	want := map[string]uint64{"derive:veteran": 1, "route:staging.whales": 1, "route:staging.veteran_purchases": 0,
		"route:staging.kr": 0}
	if got := prg.Errors(); !reflect.DeepEqual(got, want) {
		t.Errorf("Errors = %v, want %v", got, want)
	}
}

func TestClone(t *testing.T) {
	p := &config.Pipeline{
		Enrich: config.Enrich{Derive: []config.Derived{
			{Name: "seq2", Type: config.TypeLong, Expr: `client_seq * 2`},
			{Name: "who", Type: config.TypeString, Expr: `player_id + "@" + kafka.topic`},
		}},
		Filters: []config.Filter{{Name: "odd", Drop: `client_seq % 2 == 1`}},
	}
	prg := mustNew(t, p)
	clone := prg.Clone()

	// Interleaved use: each program's converted values belong to its own record.
	a, b := purchase(2), purchase(2)
	b[colClientSeq], b[colPlayerID] = i64(8), str("p-8")
	mb := meta
	mb.Topic = "other"
	prg.Apply(a, meta)
	clone.Apply(b, mb)
	if got, want := a[len(gameColumns):], []row.Value{i64(2002), str("p-42@game.events")}; !reflect.DeepEqual(got, want) {
		t.Errorf("program: %+v, want %+v", got, want)
	}
	if got, want := b[len(gameColumns):], []row.Value{i64(16), str("p-8@other")}; !reflect.DeepEqual(got, want) {
		t.Errorf("clone: %+v, want %+v", got, want)
	}

	// Concurrent use, one clone per goroutine.
	var wg sync.WaitGroup
	for g := range 4 {
		c := prg.Clone()
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals := purchase(2)
			for i := range 1000 {
				seq := int64(g*1000 + i)
				vals[colClientSeq] = i64(seq)
				drop := c.Apply(vals, meta)
				if (drop == 0) != (seq%2 == 1) || vals[len(gameColumns)].I != seq*2 {
					t.Errorf("seq %d: drop %d, seq2 %+v", seq, drop, vals[len(gameColumns)])
					return
				}
			}
		}()
	}
	wg.Wait()

	// Counters are shared.
	vals := purchase(2)
	vals[colClientSeq] = null
	clone.Apply(vals, meta)
	prg.Apply(vals, meta)
	if got := prg.Errors(); got["derive:seq2"] != 2 || got["filter:odd"] != 2 {
		t.Errorf("Errors = %v, want 2 for derive:seq2 and filter:odd", got)
	}
}

// TestComprehension runs macros, which push frames of their own, several times on one program.
func TestComprehension(t *testing.T) {
	p := &config.Pipeline{Enrich: config.Enrich{Derive: []config.Derived{
		{Name: "mobile", Type: config.TypeBoolean, Expr: `["ios", "android"].exists(p, p == platform)`},
		{Name: "n", Type: config.TypeLong, Expr: `[1, 2, 3].map(level, level * 10).filter(x, x > client_seq).size()`},
	}}}
	prg := mustNew(t, p)
	for i, tc := range []struct {
		platform string
		seq      int64
		want     []row.Value
	}{
		{"ios", 0, []row.Value{boolean(true), i64(3)}},
		{"web", 15, []row.Value{boolean(false), i64(2)}},
		{"android", 30, []row.Value{boolean(true), i64(0)}},
	} {
		vals := purchase(2)
		vals[colPlatform], vals[colClientSeq] = str(tc.platform), i64(tc.seq)
		prg.Apply(vals, meta)
		if got := vals[len(gameColumns):]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%d: got %+v, want %+v", i, got, tc.want)
		}
	}
}

func TestFloatRange(t *testing.T) {
	prg := mustNew(t, derive("f", config.TypeFloat, `amount * 1e300`))
	vals := purchase(1)
	prg.Apply(vals, meta)
	if got := vals[len(gameColumns)]; !got.Null {
		t.Errorf("got %+v, want null", got)
	}
	if got := prg.Errors()["derive:f"]; got != 1 {
		t.Errorf("errors = %d, want 1", got)
	}
	vals[colAmount] = f64(math.Inf(1))
	prg.Apply(vals, meta)
	if got := vals[len(gameColumns)]; got.Null || !math.IsInf(got.F, 1) {
		t.Errorf("infinity: got %+v", got)
	}
}

func TestEvalErrorLoggedOnce(t *testing.T) {
	var buf syncBuffer
	p := derive("krw", config.TypeDouble, `amount * 1100.0`)
	prg, err := New(p, gameColumns, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer prg.Close()
	vals := purchase(1)
	vals[colAmount] = null
	for range 3 {
		prg.Apply(vals, meta)
	}
	out := buf.String()
	if n := strings.Count(out, "CEL evaluation failed"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "rule=derive:krw") || !strings.Contains(out, "no such overload") {
		t.Errorf("log lacks the rule or the CEL error:\n%s", out)
	}
	if got := prg.Errors()["derive:krw"]; got != 3 {
		t.Errorf("errors = %d, want 3", got)
	}
}

func TestNoRules(t *testing.T) {
	prg := mustNew(t, &config.Pipeline{})
	vals := purchase(0)
	if got := prg.Apply(vals, meta); got != -1 {
		t.Errorf("Apply = %d", got)
	}
	if got := prg.Routes(vals, meta, "purchase", nil); len(got) != 0 {
		t.Errorf("Routes = %v", got)
	}
	if len(prg.Columns()) != 0 || len(prg.Errors()) != 0 || len(prg.Misses()) != 0 {
		t.Errorf("want no columns, errors or misses")
	}
	prg.Close()
	prg.Close()
}

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
