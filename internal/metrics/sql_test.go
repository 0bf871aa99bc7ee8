package metrics

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// world is a small game world worked out by hand: three players over four days in Asia/Seoul (UTC+9), with
// rows on both sides of midnight there, purchases, and a row without a player (never counted).
const world = `CREATE TABLE events AS SELECT * FROM (VALUES
 ('p1', TIMESTAMPTZ '2026-01-01 14:00:00+00', 'login',    NULL),  -- 23:00 KST, Jan 1
 ('p1', TIMESTAMPTZ '2026-01-01 15:30:00+00', 'purchase', 10.0),  -- 00:30 KST, Jan 2
 ('p2', TIMESTAMPTZ '2026-01-01 16:00:00+00', 'login',    NULL),  -- Jan 2
 ('p2', TIMESTAMPTZ '2026-01-02 03:00:00+00', 'purchase', 5.0),   -- Jan 2
 ('p3', TIMESTAMPTZ '2026-01-07 00:00:00+00', 'login',    NULL),  -- Jan 7
 ('p1', TIMESTAMPTZ '2026-01-08 01:00:00+00', 'login',    NULL),  -- Jan 8
 ('p2', TIMESTAMPTZ '2026-01-08 02:00:00+00', 'login',    NULL),  -- Jan 8
 ('p3', TIMESTAMPTZ '2026-01-08 03:00:00+00', 'purchase', 7.0),   -- Jan 8
 (NULL, TIMESTAMPTZ '2026-01-08 04:00:00+00', 'login',    NULL)
) AS t(player_id, event_time, event_type, amount)`

// worldDB is an in-memory DuckDB holding world as table events, closed when t ends.
func worldDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(world); err != nil {
		t.Fatal(err)
	}
	return db
}

// seoulDef is a metric over world's columns with days in Asia/Seoul; tests set its kind.
var seoulDef = Def{PlayerField: "player_id", TimeField: "event_time", EventTypeField: "event_type", PurchaseEvent: "purchase",
	AmountField: "amount", TimeZone: "Asia/Seoul", WindowDays: 1, RetentionDays: []int{1, 7, 30}, RetentionMode: "classic"}

func TestComputeSQL(t *testing.T) {
	db := worldDB(t)
	seoul := seoulDef
	utc := seoul
	utc.TimeZone = "UTC"
	with := func(d Def, kind string, window int) Def {
		d.Kind, d.WindowDays = kind, window
		return d
	}
	rolling := with(seoul, KindRetention, 1)
	rolling.RetentionMode = "rolling"
	funnel := with(seoul, KindFunnel, 1)
	funnel.Steps = []string{"login", "purchase"}
	cases := []struct {
		name string
		d    Def
		days []string
		want string // rows as "day=value" (retention: "cohort+N=size/retained/value", funnel: "day#step=value")
	}{
		{"dau", with(seoul, KindActive, 1), nil, "01-01=1 01-02=2 01-07=1 01-08=3"},
		{"dau on some days", with(seoul, KindActive, 1), []string{"2026-01-02", "2026-01-08"}, "01-02=2 01-08=3"},
		{"dau in UTC", with(utc, KindActive, 1), nil, "01-01=2 01-02=1 01-07=1 01-08=3"},
		{"wau", with(seoul, KindActive, 7), nil, "01-01=1 01-02=2 01-07=3 01-08=3"},
		{"wau on one day", with(seoul, KindActive, 7), []string{"2026-01-07"}, "01-07=3"},
		{"two-day window", with(seoul, KindActive, 2), nil, "01-01=1 01-02=2 01-07=1 01-08=3"},
		{"new players", with(seoul, KindNew, 1), nil, "01-01=1 01-02=1 01-07=1 01-08=0"},
		{"revenue", with(seoul, KindRevenue, 1), nil, "01-01=0 01-02=15 01-07=0 01-08=7"},
		{"revenue in UTC", with(utc, KindRevenue, 1), nil, "01-01=10 01-02=5 01-07=0 01-08=7"},
		{"paying users", with(seoul, KindPaying, 1), nil, "01-01=0 01-02=2 01-07=0 01-08=1"},
		{"arpdau", with(seoul, KindARPDAU, 1), nil, "01-01=0 01-02=7.5 01-07=0 01-08=2.3333"},
		{"arppu", with(seoul, KindARPPU, 1), nil, "01-01=null 01-02=7.5 01-07=null 01-08=7"},
		{"conversion", with(seoul, KindConversion, 1), nil, "01-01=0 01-02=1 01-07=0 01-08=0.3333"},
		{"retention", with(seoul, KindRetention, 1), nil, "01-01+1=1/1/1 01-01+7=1/1/1 01-02+1=1/0/0 01-07+1=1/1/1"},
		{"rolling retention", rolling, nil, "01-01+1=1/1/1 01-01+7=1/1/1 01-02+1=1/1/1 01-07+1=1/1/1"},
		{"sessions", func() Def { d := with(seoul, KindSessions, 1); d.SessionEvent = "login"; return d }(), nil, "01-01=1 01-02=1 01-07=1 01-08=2"},
		// p1 logs in at 23:00 Jan 1 and buys 30 minutes later (Jan 2); p2 logs in on Jan 2 and buys 11 hours
		// later; on Jan 8 p1 and p2 log in and nobody of them buys, p3 buys without a login.
		{"funnel", funnel, nil, "01-01#1=1 01-01#2=1 01-02#1=1 01-02#2=1 01-07#1=1 01-07#2=0 01-08#1=2 01-08#2=0"},
		{"custom", func() Def { d := with(seoul, KindCustom, 1); d.SQL = "max(amount)"; return d }(), nil, "01-01=null 01-02=10 01-07=null 01-08=7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := tc.d.computeSQL(scope{src: "events", days: tc.days})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range computed(t, db, q) {
				switch tc.d.Kind {
				case KindRetention:
					got = append(got, fmt.Sprintf("%s+%d=%d/%d/%s", r.day, r.n, r.size, r.retained, r.value))
				case KindFunnel:
					got = append(got, fmt.Sprintf("%s#%d=%s", r.day, r.n, r.value))
				default:
					got = append(got, r.day+"="+r.value)
				}
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), tc.want)
			}
		})
	}
}

// computedRow is a row of a computation (outputColumns) as the tests compare it: the day as MM-DD, the
// value as num prints it or "null".
type computedRow struct {
	day, key, value   string
	n, size, retained int64
}

// computed runs a computation's query and returns its rows.
func computed(t *testing.T, db *sql.DB, q string) []computedRow {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	var out []computedRow
	for rows.Next() {
		var day time.Time
		var r computedRow
		var n, size, retained sql.NullInt64
		var event sql.NullString
		var v sql.NullFloat64
		if err := rows.Scan(&day, &r.key, &n, &event, &size, &retained, &v); err != nil {
			t.Fatal(err)
		}
		r.day, r.n, r.size, r.retained, r.value = day.Format("01-02"), n.Int64, size.Int64, retained.Int64, "null"
		if v.Valid {
			r.value = num(&v.Float64)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func num(f *float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", *f), "0"), ".")
}

// TestComputeSQLBreakdown computes the total and a breakdown in one query: keys are DIMENSION=VALUE.
func TestComputeSQLBreakdown(t *testing.T) {
	db := worldDB(t)
	seoul := seoulDef
	seoul.RetentionDays = []int{1, 7}
	cases := []struct {
		kind string
		want string
	}{
		// p1 logs in on Jan 1; p1 buys and p2 logs in and buys on Jan 2; p3 logs in on Jan 7; p1 and p2 log in and
		// p3 buys on Jan 8.
		{KindActive, "01-01 = 1, 01-01 event_type=login 1, 01-02 = 2, 01-02 event_type=login 1, 01-02 event_type=purchase 2, " +
			"01-07 = 1, 01-07 event_type=login 1, 01-08 = 3, 01-08 event_type=login 2, 01-08 event_type=purchase 1"},
		// A new player counts under the value of their first row: every first row is a login.
		{KindNew, "01-01 = 1, 01-01 event_type=login 1, 01-02 = 1, 01-02 event_type=login 1, 01-02 event_type=purchase 0, " +
			"01-07 = 1, 01-07 event_type=login 1, 01-08 = 0, 01-08 event_type=login 0, 01-08 event_type=purchase 0"},
		{KindRevenue, "01-01 = 0, 01-01 event_type=login 0, 01-02 = 15, 01-02 event_type=login 0, 01-02 event_type=purchase 15, " +
			"01-07 = 0, 01-07 event_type=login 0, 01-08 = 7, 01-08 event_type=login 0, 01-08 event_type=purchase 7"},
		// Cohorts by the first row's value; retained by activity of any kind.
		{KindRetention, "01-01 = 1 1, 01-01 = 7 1, 01-01 event_type=login 1 1, 01-01 event_type=login 7 1, 01-02 = 1 0, " +
			"01-02 event_type=login 1 0, 01-07 = 1 1, 01-07 event_type=login 1 1"},
		// A custom aggregate over each key's rows of the day.
		{KindCustom, "01-01 = null, 01-01 event_type=login null, 01-02 = 10, 01-02 event_type=login null, 01-02 event_type=purchase 10, " +
			"01-07 = null, 01-07 event_type=login null, 01-08 = 7, 01-08 event_type=login null, 01-08 event_type=purchase 7"},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			d := seoul
			d.Kind, d.SQL = tc.kind, "max(amount)"
			q, err := d.computeSQL(scope{src: "events", dims: []string{"", "event_type"}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range computed(t, db, q) {
				row := r.day + " " + r.key
				if tc.kind == KindRetention {
					row += fmt.Sprintf(" %d", r.n)
				}
				got = append(got, row+" "+r.value)
			}
			if strings.Join(got, ", ") != tc.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, ", "), tc.want)
			}
		})
	}
}
