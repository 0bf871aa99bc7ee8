package quality

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// randomEvent returns a demo-shaped event of a random type as a map, valid for the golden definitions.
func randomEvent(r *rand.Rand) map[string]any {
	types := []string{"session_start", "session_end", "level_up", "item_acquire", "purchase"}
	e := map[string]any{
		"event_id":   fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Int64N(1<<48)),
		"event_time": fmt.Sprintf("2026-12-31T%02d:%02d:%02d.%03dZ", r.IntN(15), r.IntN(60), r.IntN(60), r.IntN(1000)),
		"player_id":  fmt.Sprintf("p%06d", r.IntN(1000000)),
		"event_type": types[r.IntN(len(types))],
		"level":      json.Number(fmt.Sprint(1 + r.IntN(100))),
		"platform":   []string{"ios", "android", "pc"}[r.IntN(3)],
		"country":    []string{"US", "KR", "JP", "DE"}[r.IntN(4)],
		"client_seq": json.Number(fmt.Sprint(1 + r.IntN(5000))),
	}
	switch e["event_type"] {
	case "item_acquire":
		e["item_id"] = fmt.Sprintf("sword_%02d", r.IntN(20))
	case "purchase":
		e["item_id"] = "gem_pack_02"
		e["amount"] = json.Number([]string{"0.99", "4.99", "1200", "160"}[r.IntN(4)])
		e["currency"] = []string{"USD", "EUR", "KRW", "JPY"}[r.IntN(4)]
	case "session_start":
		if r.IntN(2) == 0 {
			e["device"] = map[string]any{"model": "Pixel 8", "ram_mb": json.Number("8192")}
		}
	case "session_end":
		e["duration_s"] = json.Number(fmt.Sprint(r.IntN(7200)))
		if r.IntN(2) == 0 {
			e["tags"] = []any{"pvp"}
		}
	}
	return e
}

// mutationValues are what mutations put into fields: right and wrong types, edge values, cleansable strings.
var mutationValues = []any{
	"", "x", "IOS", "ios", "USD", "GBP", "US", "USA", "p12345", "p123456", "sword_1", "Sword!", " 12 ", "12",
	"2026-12-31T10:00:00Z", "2026-12-31t10:00:00z", "2026-02-30T10:00:00Z", "2026-12-31T10:00:00+25:00", "2026-12-31", "yesterday",
	json.Number("0"), json.Number("1"), json.Number("-1"), json.Number("1.5"), json.Number("2.0"), json.Number("100"), json.Number("101"),
	json.Number("1e2"), json.Number("99999999999"), json.Number("0.001"), true, false, nil,
	map[string]any{}, map[string]any{"model": ""}, map[string]any{"model": "m", "x": json.Number("1")}, map[string]any{"ram_mb": json.Number("100"), "model": "m"},
	[]any{}, []any{"a", "b", "c", "d"}, []any{"ok", json.Number("1")}, []any{"Bad"},
}

// TestOracleMutations compares the strict Checker's verdicts with the jsonschema library's on thousands of
// randomly damaged demo events.
func TestOracleMutations(t *testing.T) {
	schemas := oracle(t)
	strict, err := New(goldenPipeline(true))
	if err != nil {
		t.Fatal(err)
	}
	fields := []string{"event_id", "event_time", "player_id", "event_type", "level", "item_id", "amount", "currency", "platform",
		"country", "client_seq", "device", "duration_s", "tags", "cheat"}
	types := []string{"session_start", "session_end", "level_up", "item_acquire", "purchase"}
	r := rand.New(rand.NewPCG(1, 2))
	valid, invalid := 0, 0
	for range 5000 {
		e := randomEvent(r)
		for range r.IntN(3) {
			f := fields[r.IntN(len(fields))]
			switch r.IntN(4) {
			case 0:
				delete(e, f)
			case 1:
				e["event_type"] = types[r.IntN(len(types))]
			default:
				e[f] = mutationValues[r.IntN(len(mutationValues))]
			}
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if !oracleCompare(t, strict, schemas, string(raw)) {
			continue
		}
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if schemas[e["event_type"].(string)].Validate(inst) == nil {
			valid++
		} else {
			invalid++
		}
	}
	if valid < 500 || invalid < 500 {
		t.Errorf("only %d valid and %d invalid records were compared", valid, invalid)
	}
}

// TestDateTimeFormat holds the lenient date-time parser to the library's "date-time" format.
func TestDateTimeFormat(t *testing.T) {
	dir := writeFiles(t, map[string]string{"dt.json": `{"type": "string", "format": "date-time"}`})
	lib, err := compileOracle(dir+"/dt.json", []byte(`{"type": "string", "format": "date-time"}`), true)
	if err != nil {
		t.Fatal(err)
	}
	base := []byte("2024-02-29T23:59:59.123456+09:30")
	alphabet := []byte("0123456789-:.+TtZz ")
	r := rand.New(rand.NewPCG(3, 4))
	check := func(s string) {
		_, ours := parseDateTime([]byte(s), true)
		theirs := lib.Validate(s) == nil
		if strings.Contains(s, ":60") || libraryQuirk(s) {
			return // leap seconds (we refuse them), and signs the library's strconv.Atoi lets into number fields
		}
		if ours != theirs {
			t.Errorf("%q: ours %v, library %v", s, ours, theirs)
		}
	}
	for _, s := range []string{"2026-01-02T03:04:05Z", "2026-01-02t03:04:05z", "2026-01-02T03:04:05.Z", "2026-01-02T03:04:05+23:59",
		"2026-01-02T03:04:05+24:00", "2026-01-02T03:04:05-00:00", "2026-13-02T03:04:05Z", "2026-01-02T24:00:00Z", "2026-01-02 03:04:05Z"} {
		check(s)
	}
	for range 20000 {
		b := append([]byte(nil), base...)
		for range 1 + r.IntN(2) {
			switch i := r.IntN(len(b)); r.IntN(3) {
			case 0:
				b[i] = alphabet[r.IntN(len(alphabet))]
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
			}
		}
		check(string(b))
	}
}

// libraryQuirk reports a sign anywhere but in the date and the offset: the library reads the hour, minute
// and second with strconv.Atoi, which takes "+9" for 9.
func libraryQuirk(s string) bool {
	for i := range len(s) {
		if (s[i] == '+' || s[i] == '-') && i != 4 && i != 7 && i != len(s)-6 {
			return true
		}
	}
	return false
}

// TestPatterns holds the fast matcher to regexp, and checks which patterns get it.
func TestPatterns(t *testing.T) {
	cases := []struct {
		src  string
		fast bool
	}{
		{`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, true},
		{`^p[0-9]{6}$`, true},
		{`^[a-z_]+[0-9]+$`, true},
		{`^[A-Z]{2}$`, true},
		{`^[a-z]+$`, true},
		{`^ab?c*\d{1,3}$`, true},
		{`^[a-z]{2,}`, true},
		{`^(x)[0-9]?$`, true},
		{`^a*a$`, false}, // greedy would need to give back
		{`^[a-z]*[0-9]?[a-c]$`, false},
		{`[0-9]+`, false}, // not anchored at the start
		{`^(a|b)$`, true}, // regexp/syntax makes it [a-b]
		{`^(ab|cd)$`, false},
		{`^.{3}$`, false},
		{`^[^x]+$`, false},
		{`(?i)^ab$`, false},
		{`^é+$`, false},
	}
	alphabet := []byte("abcxyzAZ_019-é\x00 ")
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range cases {
		p, err := compilePattern(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		if p.fast != tc.fast {
			t.Errorf("%s: fast form %v, want %v", tc.src, p.fast, tc.fast)
		}
		re := regexp.MustCompile(tc.src)
		for range 20000 {
			s := make([]byte, r.IntN(12))
			for i := range s {
				s[i] = alphabet[r.IntN(len(alphabet))]
			}
			if r.IntN(4) == 0 { // also strings near the uuid shape
				s = []byte(fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<16), r.IntN(1<<16), r.Int64N(1<<48)))
				s[r.IntN(len(s))] = alphabet[r.IntN(len(alphabet))]
			}
			if got, want := p.match(s), re.Match(s); got != want {
				t.Errorf("%s on %q: got %v, regexp says %v", tc.src, s, got, want)
				break
			}
		}
	}
}
