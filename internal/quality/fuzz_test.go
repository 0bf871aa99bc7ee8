package quality

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/row"
)

// Fuzz targets for the record path of this package: the whole Check (scan, parse, select, validate, cleanse,
// convert) under four configurations, and the decoders it is built from (numbers, date-times, patterns, case
// changes), each against a reference from the standard library. Their seeds (the golden corpus and the cases
// below) run in every go test; run one for longer with
//
//	go test ./internal/quality/ -run '^$' -fuzz '^FuzzCheck$' -fuzztime 5m -parallel 1

// codes are the Violation codes a Checker may return.
var codes = map[string]bool{
	CodeNotJSON: true, CodeNotObject: true, CodeOversize: true, CodeTooDeep: true, CodeUnplannedEvent: true,
	CodeMissingField: true, CodeWrongType: true, CodeOutOfRange: true, CodeNotInEnum: true, CodePattern: true,
	CodeAdditionalProperty: true, CodeFutureTimestamp: true, CodeInvalidUTF8: true, CodeDuplicateKey: true,
}

// maxMessage bounds a violation's Field and Reason: they go to the rejected table, DLQ headers and logs.
const maxMessage = 2 << 10

// fuzzSeeds are records beyond the golden corpus that reach the columns-only rules and the scan's corners.
var fuzzSeeds = []string{
	`{"id":"a","ts":"2026-01-02T03:04:05.123456Z","n":-42,"small":7,"x":1.5,"f":2,"ok":true,"day":"2026-01-02"}`,
	`{"id":"a","ts":1767323045123,"n":1e2,"small":12.0,"x":-0.0e-0,"f":3.4e38,"ok":false,"day":"1969-12-31"}`,
	`{"id":" IOS ","ts":"1798728000","n":" 12 ","x":"-1.5e1","f":"2","day":"2026-02-29"}`,
	`{"id":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","ts":"2026-01-02T03:04:05+23:59"}`,
	`{"id":"a","ts":99999999999,"n":9.3e18,"small":3000000000}`,
	`{"id":"a","ts":1,"meta":{"k":[1,{"a":[[[]]]}]},"\u0069d2":null}`,
	"{\"id\":\"utf\xff\xfe\",\"ts\":1}",
	`{"id":"\ud800","ts":1,"id":"b"}`,
	`{"event_id":"d60f5254-2a78-4a59-81e4-5b44f658d5f1","event_time":"2026-12-31T14:42:35.617Z","player_id":"p000891","event_type":"session_start","level":10,"platform":"ios","client_seq":3,"device":{"model":"a\u0000\"\u0007b","os_version":"\u2028"}}`,
	`{"event_id":"d60f5254-2a78-4a59-81e4-5b44f658d5f1","event_time":"2026-12-31T14:42:35.617Z","player_id":"p000891","event_type":"session_end","level":10,"platform":"ios","client_seq":3,"tags":["a\u007f\"","\udb40\udc01\\"]}`,
	`[{"id":"a"}]`, `"x"`, `NaN`, `{"id":1e999}`, ``, ` `,
}

// fuzzCheckers are the configurations FuzzCheck runs every input through.
func fuzzCheckers(t testing.TB) map[string]*Checker {
	t.Helper()
	cleansing := &config.Pipeline{Name: "p", Table: config.Table{Name: "s.t", Columns: testColumns},
		Limits: config.Limits{MaxRecordBytes: 4096, MaxDepth: 3},
		Cleanse: config.Cleanse{
			Trim: true, CoerceNumbers: true, CoerceTimestamps: true,
			Fields: []config.FieldCleanse{
				{Field: "id", Case: "lower", Aliases: map[string]string{"IOS": "ios", " iPad ": "ios", "ǅ": "dz"}},
				{Field: "day", NullIfInvalid: true},
				{Field: "small", NullIfInvalid: true},
			},
			Future: config.FutureRule{Field: "ts", MaxSkew: time.Minute, Action: "clamp"},
		}}
	out := map[string]*Checker{}
	for name, p := range map[string]*config.Pipeline{
		"golden":    goldenPipeline(false),
		"strict":    goldenPipeline(true),
		"columns":   {Name: "p", Table: config.Table{Name: "s.t", Columns: testColumns}},
		"cleansing": cleansing,
	} {
		c, err := New(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = c
	}
	return out
}

// FuzzCheck runs every input through four Checkers (the golden corpus's configuration, the same without
// cleansing and limits, the columns of the former decoder, and those with cleansing) and holds each verdict
// to what the rejected table and the data files need:
//   - a violation has a known code, and a Field and a Reason that are valid UTF-8 and shorter than 2 KiB;
//   - an accepted record is valid JSON and valid UTF-8 (json.Valid false ⇒ rejected), and its values fit
//     their columns: strings valid UTF-8, JSON-text columns valid JSON, ints in 32 bits, finite numbers,
//     booleans 0 or 1, required columns not null;
//   - the verdict and the values are the same when the same Checker checks the record again and when a fresh
//     Clone checks it (no state leaks from one record to the next);
//   - without cleansing, the accepted values are those encoding/json reads from the record.
func FuzzCheck(f *testing.F) {
	for _, e := range loadCorpus(f) {
		f.Add([]byte(e.Record))
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	// Names longer than the 2 KiB bound, in a top-level and in a nested additional property: their paths
	// were once copied whole into Field and Reason.
	session := `{"event_id":"d60f5254-2a78-4a59-81e4-5b44f658d5f1","event_time":"2026-12-31T14:42:35.617Z","player_id":"p000891","event_type":"session_start","level":10,"platform":"ios","client_seq":3,`
	long := strings.Repeat("ké", 1500)
	f.Add([]byte(session + `"` + long + `":1}`))
	f.Add([]byte(session + `"device":{"model":"x","` + long + `":1}}`))
	checkers := fuzzCheckers(f)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range checkers {
			if !yield(n) {
				return
			}
		}
	})
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, name := range names {
			c := checkers[name]
			v, vals := checkCopy(c, raw)
			if v != nil {
				checkViolation(t, name, raw, v)
			} else {
				if !json.Valid(raw) {
					t.Fatalf("%s: accepted %q, which encoding/json says is not JSON", name, raw)
				}
				if !utf8.Valid(raw) {
					t.Fatalf("%s: accepted %q, which is not valid UTF-8", name, raw)
				}
				checkValues(t, name, c, raw, vals)
				if name == "columns" {
					checkDecoded(t, c.Columns(), raw, vals)
				}
			}
			again, againVals := checkCopy(c, raw)
			sameVerdict(t, name+" checked again", raw, v, vals, again, againVals)
			cl, clVals := checkCopy(c.Clone(), raw)
			sameVerdict(t, name+" clone", raw, v, vals, cl, clVals)
		}
	})
}

// checkCopy checks raw and returns the verdict and a copy of the values, which Check leaves in its buffers.
func checkCopy(c *Checker, raw []byte) (*Violation, []row.Value) {
	out := make([]row.Value, len(c.Columns()))
	v := c.Check(raw, goldenNow, out)
	if v != nil {
		vc := *v
		return &vc, nil
	}
	for i := range out {
		out[i].S = bytes.Clone(out[i].S)
	}
	return nil, out
}

func checkViolation(t *testing.T, name string, raw []byte, v *Violation) {
	t.Helper()
	switch {
	case !codes[v.Code]:
		t.Fatalf("%s: record %q: unknown code %q (%s)", name, raw, v.Code, v.Reason)
	case v.Reason == "":
		t.Fatalf("%s: record %q: %s without a reason", name, raw, v.Code)
	case !utf8.ValidString(v.Field) || !utf8.ValidString(v.Reason):
		t.Fatalf("%s: record %q: %s with invalid UTF-8: field %q, reason %q", name, raw, v.Code, v.Field, v.Reason)
	case len(v.Field) >= maxMessage || len(v.Reason) >= maxMessage:
		t.Fatalf("%s: record of %d bytes: %s with a field of %d bytes and a reason of %d bytes: %.300q…",
			name, len(raw), v.Code, len(v.Field), len(v.Reason), v.Reason)
	}
}

// checkValues holds accepted values to their columns' types.
func checkValues(t *testing.T, name string, c *Checker, raw []byte, vals []row.Value) {
	t.Helper()
	for i, col := range c.Columns() {
		v := vals[i]
		bad := func(why string) {
			t.Helper()
			t.Fatalf("%s: record %q: column %s (%s) = %+v: %s", name, raw, col.Name, col.Type, v, why)
		}
		if v.Null {
			if col.Required {
				bad("a required column is null")
			}
			continue
		}
		switch c.s.cols[i].kind {
		case kString:
			if !utf8.Valid(v.S) {
				bad("not valid UTF-8")
			}
		case kJSON:
			if !utf8.Valid(v.S) || !json.Valid(v.S) {
				bad("not valid JSON text")
			}
		case kInt:
			if v.I < math.MinInt32 || v.I > math.MaxInt32 {
				bad("out of the int range")
			}
		case kDouble:
			if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
				bad("not finite")
			}
		case kFloat:
			if math.IsNaN(v.F) || math.Abs(v.F) > math.MaxFloat32 {
				bad("out of the float range")
			}
		case kBool:
			if v.I != 0 && v.I != 1 {
				bad("a boolean that is neither 0 nor 1")
			}
		}
	}
}

// checkDecoded compares the values a Checker without cleansing accepted with what encoding/json reads.
func checkDecoded(t *testing.T, cols []config.Column, raw []byte, vals []row.Value) {
	t.Helper()
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("accepted %q, which encoding/json cannot decode: %v", raw, err)
	}
	for i, col := range cols {
		v, x := vals[i], doc[col.Name]
		bad := func(want any) {
			t.Helper()
			t.Fatalf("record %q: column %s (%s) = %+v, encoding/json reads %#v (want %v)", raw, col.Name, col.Type, v, x, want)
		}
		if x == nil {
			if !v.Null {
				bad("null")
			}
			continue
		}
		if v.Null {
			bad("a value")
		}
		num, _ := x.(json.Number)
		switch col.Type {
		case config.TypeString:
			if s, ok := x.(string); !ok || s != string(v.S) {
				bad(x)
			}
		case config.TypeLong, config.TypeInt:
			if n, ok := exactRat(string(num)); ok && (!n.IsInt() || !n.Num().IsInt64() || n.Num().Int64() != v.I) {
				bad(n)
			}
		case config.TypeDouble, config.TypeFloat:
			if want, err := strconv.ParseFloat(string(num), 64); err != nil || want != v.F {
				bad(want)
			}
		case config.TypeBoolean:
			if b, ok := x.(bool); !ok || b != (v.I == 1) {
				bad(x)
			}
		case config.TypeTimestamp:
			if s, ok := x.(string); ok {
				if ts, err := time.Parse(time.RFC3339Nano, s); err != nil || ts.UnixMicro() != v.I {
					bad(ts.UnixMicro())
				}
			} else if ms, err := strconv.ParseInt(string(num), 10, 64); err != nil || ms*1000 != v.I {
				bad(ms * 1000)
			}
		case config.TypeDate:
			s, _ := x.(string)
			if d, err := time.Parse(time.DateOnly, s); err != nil || floorDays(d.Unix()) != v.I {
				bad(floorDays(d.Unix()))
			}
		}
	}
}

func floorDays(secs int64) int64 {
	d := secs / 86400
	if secs%86400 < 0 {
		d--
	}
	return d
}

// exactRat reads a JSON number exactly; ok is false for exponents too large to expand cheaply.
func exactRat(s string) (*big.Rat, bool) {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+")); err != nil || e > 1000 || e < -1000 {
			return nil, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// sameVerdict fails unless two checks of raw gave the same verdict and values.
func sameVerdict(t *testing.T, what string, raw []byte, v1 *Violation, vals1 []row.Value, v2 *Violation, vals2 []row.Value) {
	t.Helper()
	switch {
	case (v1 == nil) != (v2 == nil):
		t.Fatalf("%s: record %q: verdict %v, then %v", what, raw, v1, v2)
	case v1 != nil && *v1 != *v2:
		t.Fatalf("%s: record %q: violation %+v, then %+v", what, raw, *v1, *v2)
	}
	for i := range vals1 {
		a, b := vals1[i], vals2[i]
		if a.Null != b.Null || a.I != b.I || math.Float64bits(a.F) != math.Float64bits(b.F) || !bytes.Equal(a.S, b.S) {
			t.Fatalf("%s: record %q: column %d is %+v, then %+v", what, raw, i, a, b)
		}
	}
}

// FuzzNumber holds the number helpers to strconv and math/big: isJSONNumber accepts what encoding/json
// takes as a number, parseNumber agrees with strconv, and exactInt reads the value exactly.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "1", "-1", "1.5", "1e2", "12.0", "-3.50e1", "1.25e1", "9223372036854775807",
		"-9223372036854775808", "9223372036854775808", "9.3e18", "1e400", "1e-400", "0e99999999", "0.000e5", "01", "+1",
		".5", "1.", "1e", "-", "1E+2", "100000000000000000000e-2", "99999999999", "4.9e-324", "00", "1 ", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		isNum := len(s) > 0 && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && s[len(s)-1] >= '0' && s[len(s)-1] <= '9' && json.Valid(b)
		if got := isJSONNumber(b); got != isNum {
			t.Fatalf("isJSONNumber(%q) = %v, encoding/json says %v", s, got, isNum)
		}
		if !isNum {
			return
		}
		fl, i, isInt, ok := parseNumber(b)
		want, err := strconv.ParseFloat(s, 64)
		if ok != (err == nil) || ok && fl != want {
			t.Fatalf("parseNumber(%q) = %v, %v; strconv: %v, %v", s, fl, ok, want, err)
		}
		n, errInt := strconv.ParseInt(s, 10, 64)
		if isInt != (errInt == nil) || isInt && (i != n || fl != float64(n)) {
			t.Fatalf("parseNumber(%q): integer %d (%v); strconv: %d, %v", s, i, isInt, n, errInt)
		}
		got, integral, fits := exactInt(b)
		r, checkable := exactRat(s)
		if !checkable {
			return
		}
		wantFits := r.IsInt() && r.Num().IsInt64()
		if integral != r.IsInt() || fits != wantFits || fits && got != r.Num().Int64() {
			t.Fatalf("exactInt(%q) = %d, integral %v, fits %v; math/big reads %s", s, got, integral, fits, r.RatString())
		}
	})
}

// FuzzDateTime holds the allocation-free date-time and date parsers to the time package: whatever they
// accept, time.Parse accepts with the same instant (strict mode: as written; lenient mode: with "t" and "z"
// in upper case), and parseDate accepts exactly what time.Parse(time.DateOnly) does.
func FuzzDateTime(f *testing.F) {
	for _, s := range []string{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123456789+09:30", "2024-02-29t23:59:59.1z",
		"2023-02-29T00:00:00Z", "2026-01-02T03:04:60Z", "0000-01-01T00:00:00-23:59", "9999-12-31T23:59:59.999999999+00:00",
		"1969-12-31T23:59:59.9999999Z", "2026-01-02T03:04:05,123Z", "2026-01-02T24:00:00Z", "2026-01-02", "1900-02-29",
		"2000-02-29", "-001-01-01", "2026-1-02", "+2026-01-02", "2026-01-02T03:04:05+24:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		strict, okStrict := parseDateTime(b, false)
		lenient, okLenient := parseDateTime(b, true)
		if okStrict && (!okLenient || lenient != strict) {
			t.Fatalf("%q: strict %d, lenient %d (%v)", s, strict, lenient, okLenient)
		}
		if okLenient {
			up := []byte(s)
			up[10] = bytes.ToUpper(up[10:11])[0]
			if up[len(up)-1] == 'z' {
				up[len(up)-1] = 'Z'
			}
			ts, err := time.Parse(time.RFC3339Nano, string(up))
			if err != nil || ts.UnixMicro() != lenient {
				t.Fatalf("parseDateTime(%q) = %d; time.Parse: %d, %v", s, lenient, ts.UnixMicro(), err)
			}
		}
		days, ok := parseDate(b)
		d, err := time.Parse(time.DateOnly, s)
		if ok != (err == nil) || ok && days != floorDays(d.Unix()) {
			t.Fatalf("parseDate(%q) = %d, %v; time.Parse: %d, %v", s, days, ok, floorDays(d.Unix()), err)
		}
	})
}

// FuzzPattern holds the greedy matcher to regexp: for every pattern it takes on, it matches exactly the
// strings regexp matches.
func FuzzPattern(f *testing.F) {
	for _, p := range []string{"^p[0-9]{6}$", "^[a-z_]+[0-9]+$", "^[A-Z]{2}$", "^[a-z]+$",
		"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", "^a*b", "(?i)^[a-k]+$", "(?m)^a$", "^[^a]x$",
		"^[a-z]{2,4}[0-9]?$", "^\\d+\\.\\d*$"} {
		f.Add(p, []byte("p012345"))
		f.Add(p, []byte("abc123"))
		f.Add(p, []byte("K\u212a\nab"))
	}
	f.Fuzz(func(t *testing.T, src string, s []byte) {
		if len(src) > 64 {
			return
		}
		p, err := compilePattern(src)
		if err != nil || !p.fast {
			return
		}
		re := regexp.MustCompile(src)
		if got, want := p.match(s), re.Match(s); got != want {
			t.Fatalf("pattern %q on %q: fast matcher %v, regexp %v", src, s, got, want)
		}
	})
}

// FuzzChangeCase holds the case change of the cleansing rules to bytes.ToUpper and bytes.ToLower on valid
// UTF-8, and to keeping invalid bytes as they are.
func FuzzChangeCase(f *testing.F) {
	for _, s := range []string{"iOS", "Éclair", "ǅ", "straße", "\u212a", "a\xffB", "\xc3", "İ"} {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, s []byte, mode uint8) {
		upper, lower := mode%3 == 1, mode%3 == 2
		got := changeCase(nil, s, upper, lower)
		var want []byte
		switch {
		case upper:
			want = bytes.ToUpper(s)
		case lower:
			want = bytes.ToLower(s)
		default:
			want = s
		}
		if utf8.Valid(s) && !bytes.Equal(got, want) {
			t.Fatalf("changeCase(%q, upper %v, lower %v) = %q, want %q", s, upper, lower, got, want)
		}
		if utf8.Valid(got) != utf8.Valid(s) {
			t.Fatalf("changeCase(%q) = %q: UTF-8 validity changed", s, got)
		}
	})
}
