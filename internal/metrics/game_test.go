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

func TestGameSQL(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(world); err != nil {
		t.Fatal(err)
	}
	seoul := Game{PlayerField: "player_id", TimeField: "event_time", EventTypeField: "event_type", PurchaseEvent: "purchase",
		AmountField: "amount", TimeZone: "Asia/Seoul"}
	utc := seoul
	utc.TimeZone = ""
	cases := []struct {
		name   string
		g      Game
		metric string
		want   string // rows as "day=value" (retention: "cohort+N=size/retained/value")
	}{
		{"dau", seoul, "dau", "01-01=1 01-02=2 01-07=1 01-08=3"},
		{"dau in UTC", utc, "dau", "01-01=2 01-02=1 01-07=1 01-08=3"},
		{"wau", seoul, "wau", "01-01=1 01-02=2 01-07=3 01-08=3"},
		{"mau", seoul, "mau", "01-01=1 01-02=2 01-07=3 01-08=3"},
		{"new players", seoul, "new_players", "01-01=1 01-02=1 01-07=1"},
		{"revenue", seoul, "revenue", "01-01=0 01-02=15 01-07=0 01-08=7"},
		{"revenue in UTC", utc, "revenue", "01-01=10 01-02=5 01-07=0 01-08=7"},
		{"paying users", seoul, "paying_users", "01-01=0 01-02=2 01-07=0 01-08=1"},
		{"arpdau", seoul, "arpdau", "01-01=0 01-02=7.5 01-07=0 01-08=2.3333"},
		{"arppu", seoul, "arppu", "01-01=null 01-02=7.5 01-07=null 01-08=7"},
		{"conversion", seoul, "conversion", "01-01=0 01-02=1 01-07=0 01-08=0.3333"},
		{"retention", seoul, "retention", "01-01+1=1/1/1 01-01+7=1/1/1 01-02+1=1/0/0 01-07+1=1/1/1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := tc.g.SQL(tc.metric, "events", "2026-01-01", "2026-01-31")
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.Query(q)
			if err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				if tc.metric == "retention" {
					var day time.Time
					var n, size, retained int64
					var v float64
					if err := rows.Scan(&day, &n, &size, &retained, &v); err != nil {
						t.Fatal(err)
					}
					got = append(got, fmt.Sprintf("%s+%d=%d/%d/%s", day.Format("01-02"), n, size, retained, num(&v)))
					continue
				}
				var day time.Time
				var v sql.NullFloat64
				if err := rows.Scan(&day, &v); err != nil {
					t.Fatal(err)
				}
				s := "null"
				if v.Valid {
					s = num(&v.Float64)
				}
				got = append(got, day.Format("01-02")+"="+s)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), tc.want)
			}
		})
	}
}

func num(f *float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", *f), "0"), ".")
}

func TestGameSQLErrors(t *testing.T) {
	g := Game{PlayerField: "player_id", TimeField: "event_time", EventTypeField: "event_type", PurchaseEvent: "purchase", AmountField: "amount"}
	bad := g
	bad.TimeZone = "Mars/Olympus"
	weird := g
	weird.PlayerField = "player id; drop"
	cases := []struct {
		name     string
		g        Game
		metric   string
		from, to string
		wantErr  string
	}{
		{"unknown metric", g, "dav", "2026-01-01", "2026-01-02", "unknown metric \"dav\" (expected one of: dau, wau, mau, new_players, retention, revenue, paying_users, arpdau, arppu, conversion)"},
		{"bad day", g, "dau", "2026-1-1", "2026-01-02", `day "2026-1-1": expected YYYY-MM-DD`},
		{"bad zone", bad, "dau", "2026-01-01", "2026-01-02", `time_zone "Mars/Olympus": not an IANA time zone`},
		{"bad field", weird, "dau", "2026-01-01", "2026-01-02", `player_field "player id; drop": expected a column name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.g.SQL(tc.metric, "events", tc.from, tc.to); err == nil || err.Error() != tc.wantErr {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
