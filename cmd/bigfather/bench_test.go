package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/bigfather/bigfather/internal/query"
)

// benchKeys are the keys of `bigfather bench --format json` with the JSON type of each value: "string",
// "integer" (a number without a fraction), "number" or "array".
var benchKeys = map[string]string{
	"shape": "string", "count": "integer", "cores": "integer", "go_version": "string", "brokers": "string",
	"partitions": "integer", "commit_interval_seconds": "number",
	"seconds": "number", "records_per_sec": "number", "bytes": "integer", "mb_per_sec": "number",
	"rows": "integer", "rejected": "integer", "duplicates": "integer", "filtered": "integer", "route_rows": "integer",
	"files": "integer", "commits": "integer", "commit_p50_seconds": "number", "commit_p99_seconds": "number",
	"backlog_latency_p50_seconds": "number", "backlog_latency_p99_seconds": "number",
	"peak_rss_bytes": "integer", "memory_limit_bytes": "integer",
	"live_rate": "integer", "live_seconds": "number", "live_count": "integer", "live_rows": "integer",
	"latency_samples": "integer", "latency_p50_seconds": "number", "latency_p99_seconds": "number",
	"live_commit_p50_seconds": "number", "live_commit_p99_seconds": "number",
	"tables": "array",
}

// benchTableKeys are the keys of each entry of "tables".
var benchTableKeys = map[string]string{"run": "string", "role": "string", "name": "string", "rows": "integer", "files": "integer"}

// checkKeys requires obj to hold exactly the keys of want, each value of its type.
func checkKeys(t *testing.T, what string, obj map[string]any, want map[string]string) {
	t.Helper()
	for k, typ := range want {
		v, ok := obj[k]
		if !ok {
			t.Errorf("%s: key %q missing", what, k)
			continue
		}
		var got string
		switch v := v.(type) {
		case string:
			got = "string"
		case json.Number:
			got = "number"
			if _, err := v.Int64(); err == nil {
				got = "integer"
			}
		case []any:
			got = "array"
		default:
			got = fmt.Sprintf("%T", v)
		}
		if got != typ && !(typ == "number" && got == "integer") {
			t.Errorf("%s: %q is %s %v, want %s", what, k, got, v, typ)
		}
	}
	for k := range obj {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected key %q", what, k)
		}
	}
}

// TestBenchJSON runs `bigfather bench --format json` on a small count for every shape, with the embedded broker
// and once with given brokers, and checks the JSON key by key, its accounting against the tables (as `bigfather
// sql` counts them) and its own arithmetic.
func TestBenchJSON(t *testing.T) {
	const count, rate = 20000, 2000
	tests := []struct {
		name, shape string
		brokers     bool // a broker of the test's (--brokers) instead of the embedded one
	}{
		{"plain", "plain", false},
		{"quality", "quality", false},
		{"fanout", "fanout", false},
		{"avro", "avro", false},
		{"plain on given brokers", "plain", true},
	}
	for _, tt := range tests {
		shape := tt.shape
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"bench", "--count", fmt.Sprint(count), "--shape", shape, "--format", "json",
				"--data", dir, "--rate", fmt.Sprint(rate), "--live", "1s", "--commit-interval", "500ms"}
			wantBrokers := "embedded"
			var e *env
			if tt.brokers {
				e = newEnv(t)
				wantBrokers = e.broker.Addr()
				args = append(args, "--brokers", wantBrokers)
			}
			cmd := exec.Command(binPath, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("bigfather bench: %v\nstderr:\n%s", err, stderr.String())
			}
			dec := json.NewDecoder(&stdout)
			dec.UseNumber()
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout.String())
			}
			if dec.More() {
				t.Errorf("stdout holds more than one JSON value")
			}
			checkKeys(t, "bench", obj, benchKeys)
			if t.Failed() {
				t.FailNow()
			}
			str := func(k string) string { return obj[k].(string) }
			num := func(k string) float64 { f, _ := obj[k].(json.Number).Float64(); return f }
			integer := func(k string) int64 { n, _ := obj[k].(json.Number).Int64(); return n }

			// The setting.
			if str("shape") != shape || integer("count") != count || integer("cores") != int64(runtime.NumCPU()) ||
				str("go_version") != runtime.Version() || str("brokers") != wantBrokers || integer("partitions") != 8 ||
				num("commit_interval_seconds") != 0.5 || integer("live_rate") != rate || num("live_seconds") != 1 {
				t.Errorf("setting: shape %s count %d cores %d go %s brokers %s partitions %d interval %v live %d/s for %vs",
					str("shape"), integer("count"), integer("cores"), str("go_version"), str("brokers"), integer("partitions"),
					num("commit_interval_seconds"), integer("live_rate"), num("live_seconds"))
			}

			// Every record is accounted for, and the tables say so.
			rows, rejected, dups, filtered := integer("rows"), integer("rejected"), integer("duplicates"), integer("filtered")
			if rows+rejected+dups+filtered != count {
				t.Errorf("rows %d + rejected %d + duplicates %d + filtered %d != count %d", rows, rejected, dups, filtered, count)
			}
			countSQL := tableCounter(t, dir)
			var tables []map[string]any
			for i, v := range obj["tables"].([]any) {
				tbl, ok := v.(map[string]any)
				if !ok {
					t.Fatalf("tables[%d] is %T, want an object", i, v)
				}
				checkKeys(t, fmt.Sprintf("tables[%d]", i), tbl, benchTableKeys)
				tables = append(tables, tbl)
			}
			if t.Failed() {
				t.FailNow()
			}
			wantRoles := []string{"main", "rejected"}
			if shape == "fanout" {
				wantRoles = []string{"main", "route", "route", "route", "route", "route", "rejected"}
			}
			sums := map[string]int64{}
			files := map[string]int64{}
			for _, run := range []string{"throughput", "live"} {
				var roles []string
				for _, tbl := range tables {
					if tbl["run"] != run {
						continue
					}
					name, role := tbl["name"].(string), tbl["role"].(string)
					roles = append(roles, role)
					n, _ := tbl["rows"].(json.Number).Int64()
					f, _ := tbl["files"].(json.Number).Int64()
					if got := countSQL("select count(*) from " + name); got != n {
						t.Errorf("%s: count(*) = %d, JSON says %d rows", name, got, n)
					}
					if role != "rejected" {
						if got := countSQL("select count(distinct event_id) from " + name); got != n {
							t.Errorf("%s: %d distinct event_id in %d rows", name, got, n)
						}
					}
					if role == "main" && shape == "avro" {
						// Decoded with one registered schema, whole: the required fields set, amount and
						// currency exactly on purchases, as the JSON shapes have them.
						for _, q := range []string{
							"select count(distinct _schema_id) from " + name,
							"select count(*) from " + name + " where _schema_id is null or event_time is null or player_id is null" +
								" or level is null or platform is null or country is null or client_seq is null",
							"select count(*) from " + name + " where (amount is not null) <> (event_type = 'purchase')" +
								" or (currency is not null) <> (event_type = 'purchase')",
						} {
							want := int64(0)
							if strings.Contains(q, "distinct") && n > 0 {
								want = 1
							}
							if got := countSQL(q); got != want {
								t.Errorf("%s: %s = %d, want %d", name, q, got, want)
							}
						}
					}
					sums[run+"/"+role] += n
					files[run] += f
				}
				if !slices.Equal(roles, wantRoles) {
					t.Errorf("%s run tables have roles %v, want %v", run, roles, wantRoles)
				}
			}
			if sums["throughput/main"] != rows || sums["throughput/rejected"] != rejected || sums["throughput/route"] != integer("route_rows") {
				t.Errorf("throughput tables hold %d main, %d rejected, %d route rows; JSON says %d, %d, %d",
					sums["throughput/main"], sums["throughput/rejected"], sums["throughput/route"], rows, rejected, integer("route_rows"))
			}
			if shape == "fanout" && integer("route_rows") != rows {
				t.Errorf("fanout: %d route rows, want one per main row (%d)", integer("route_rows"), rows)
			}
			if shape != "fanout" && integer("route_rows") != 0 {
				t.Errorf("%s: %d route rows, want 0", shape, integer("route_rows"))
			}
			if files["throughput"] != integer("files") || integer("files") < 1 {
				t.Errorf("files = %d, the throughput tables list %d; want them equal and at least 1", integer("files"), files["throughput"])
			}
			// The demo producer makes no faults: nothing is rejected, duplicated or filtered.
			if rejected != 0 || dups != 0 || filtered != 0 {
				t.Errorf("rejected %d, duplicates %d, filtered %d; want 0 (the benchmark produces no faults)", rejected, dups, filtered)
			}

			// Throughput and its arithmetic.
			secs := num("seconds")
			if secs <= 0 || num("records_per_sec") <= 0 || integer("bytes") <= 0 || num("mb_per_sec") <= 0 {
				t.Errorf("seconds %v, records/s %v, bytes %d, MB/s %v; want all positive", secs, num("records_per_sec"), integer("bytes"), num("mb_per_sec"))
			}
			if want := roundTo(count/secs, 1); num("records_per_sec") != want {
				t.Errorf("records_per_sec = %v, want count/seconds = %v", num("records_per_sec"), want)
			}
			if want := roundTo(float64(integer("bytes"))/1e6/secs, 3); num("mb_per_sec") != want {
				t.Errorf("mb_per_sec = %v, want bytes/1e6/seconds = %v", num("mb_per_sec"), want)
			}
			// A demo event is about 220 bytes of JSON, or 5 bytes of registry frame and about 90 of Avro.
			minPer, maxPer := int64(150), int64(400)
			if shape == "avro" {
				minPer, maxPer = 60, 150
			}
			if per := integer("bytes") / count; per < minPer || per > maxPer {
				t.Errorf("bytes = %d: %d per demo event, want %d to %d", integer("bytes"), per, minPer, maxPer)
			}
			if integer("commits") < 1 {
				t.Errorf("commits = %d, want at least 1", integer("commits"))
			}
			if integer("peak_rss_bytes") <= 0 || integer("memory_limit_bytes") <= 0 {
				t.Errorf("peak_rss_bytes %d, memory_limit_bytes %d; want both positive", integer("peak_rss_bytes"), integer("memory_limit_bytes"))
			}

			// Latencies: positive, p50 <= p99.
			for _, pair := range [][2]string{
				{"commit_p50_seconds", "commit_p99_seconds"},
				{"backlog_latency_p50_seconds", "backlog_latency_p99_seconds"},
				{"latency_p50_seconds", "latency_p99_seconds"},
				{"live_commit_p50_seconds", "live_commit_p99_seconds"},
			} {
				if p50, p99 := num(pair[0]), num(pair[1]); p50 <= 0 || p50 > p99 {
					t.Errorf("%s = %v, %s = %v; want 0 < p50 <= p99", pair[0], p50, pair[1], p99)
				}
			}

			// The live run: (1s warm-up + 1s) at 2000 events/s, all staged; the samples are the rows produced
			// after the warm-up, once in the main table and, for fanout, once more in a route table.
			if integer("live_count") != 2*rate || integer("live_rows") != 2*rate || sums["live/main"] != 2*rate {
				t.Errorf("live: %d produced, %d rows (tables: %d); want %d each", integer("live_count"), integer("live_rows"), sums["live/main"], 2*rate)
			}
			copies := int64(1)
			if shape == "fanout" {
				copies = 2
			}
			if n := integer("latency_samples"); n < copies*rate*9/10 || n > copies*rate*11/10 {
				t.Errorf("latency_samples = %d, want about %d (one second of rows after the warm-up, %d table(s) each)", n, copies*rate, copies)
			}

			// On given brokers, the benchmark removes its topics and consumer groups.
			if e != nil {
				adm := kadm.NewClient(e.client())
				topics, err := adm.ListTopics(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if names := topics.Names(); len(names) != 0 {
					t.Errorf("topics left on the brokers: %v", names)
				}
				groups, err := adm.ListGroups(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if names := groups.Groups(); len(names) != 0 {
					t.Errorf("consumer groups left on the brokers: %v", names)
				}
			}
		})
	}
}

// tableCounter returns a function running integer-valued SQL over the tables under dir, as `bigfather sql
// --data dir` does; one engine serves every query.
func tableCounter(t *testing.T, dir string) func(sql string) int64 {
	t.Helper()
	ctx := context.Background()
	lk := (&env{t: t, dir: dir}).openLake()
	t.Cleanup(func() { lk.Close() })
	eng, err := query.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if err := eng.RegisterLake(ctx, lk); err != nil {
		t.Fatal(err)
	}
	return func(sql string) int64 {
		t.Helper()
		res, err := eng.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
			t.Fatalf("%s: expected one value, got %v", sql, res.Rows)
		}
		n, ok := res.Rows[0][0].(int64)
		if !ok {
			t.Fatalf("%s: expected an integer, got %T %v", sql, res.Rows[0][0], res.Rows[0][0])
		}
		return n
	}
}

// roundTo rounds x to digits decimal places, as bench rounds its figures.
func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// TestBenchUsage checks that bad flags are usage errors (exit 2) naming the flag and what it takes.
func TestBenchUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--count", "0"}, "--count must be a positive number of events, got 0"},
		{[]string{"--count", "many"}, `invalid value "many" for flag -count`},
		{[]string{"--shape", "round"}, `--shape "round" is not a shape (expected plain, quality, fanout, avro)`},
		{[]string{"--format", "xml"}, `--format "xml" is not an output format (expected table or json)`},
		{[]string{"--rate", "0"}, "--rate must be 1 to 1000000 events per second, got 0"},
		{[]string{"--live", "0s"}, "outside the allowed range 1s to 1h0m0s"},
		{[]string{"--commit-interval", "1ms"}, "outside the allowed range 10ms to 10m0s"},
		{[]string{"--partitions", "0"}, "--partitions must be 1 to 1024, got 0"},
		{[]string{"--brokers", " , "}, `--brokers " , " names no broker (expected host:port[,host:port...])`},
		{[]string{"extra"}, `bench: unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"bench"}, tt.args...), &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout not empty: %q", stdout.String())
			}
		})
	}
}
