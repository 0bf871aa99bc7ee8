// Package metrics computes game metrics over staged tables with DuckDB SQL, with the semantics DESIGN.md's
// "Metrics" contract fixes: a day is the calendar day of the time field in the pack's time zone; "active on
// d" means at least one row on d; days with no data have no row.
package metrics

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Game is the built-in game pack's configuration: which fields of the staged table mean what.
type Game struct {
	PlayerField    string
	TimeField      string
	EventTypeField string
	PurchaseEvent  string
	AmountField    string
	// TimeZone is the IANA zone whose calendar days the metrics count; empty is UTC.
	TimeZone string
}

// Names of the game pack's metrics, in the contract's order.
var Names = []string{"dau", "wau", "mau", "new_players", "retention", "revenue", "paying_users", "arpdau", "arppu", "conversion"}

// RetentionDays are the N of the retention metric's rows.
var RetentionDays = []int{1, 7, 30}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quote quotes a SQL identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// literal quotes a SQL string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// check validates the pack's fields and zone.
func (g Game) check() error {
	for _, f := range []struct{ key, v string }{{"player_field", g.PlayerField}, {"time_field", g.TimeField},
		{"event_type_field", g.EventTypeField}, {"amount_field", g.AmountField}} {
		if !identRe.MatchString(f.v) {
			return fmt.Errorf("%s %q: expected a column name", f.key, f.v)
		}
	}
	if g.TimeZone != "" {
		if _, err := time.LoadLocation(g.TimeZone); err != nil {
			return fmt.Errorf("time_zone %q: not an IANA time zone", g.TimeZone)
		}
	}
	return nil
}

func (g Game) zone() string {
	if g.TimeZone == "" {
		return "UTC"
	}
	return g.TimeZone
}

// events is the CTE every metric starts from: player, local day, event type and amount of each row of src.
func (g Game) events(src string) string {
	return fmt.Sprintf(`ev AS (SELECT %s AS player, CAST((%s AT TIME ZONE %s) AS DATE) AS day, %s AS etype, %s AS amount FROM %s WHERE %s IS NOT NULL AND %s IS NOT NULL)`,
		quote(g.PlayerField), quote(g.TimeField), literal(g.zone()), quote(g.EventTypeField), quote(g.AmountField), src,
		quote(g.PlayerField), quote(g.TimeField))
}

// SQL returns the query that computes metric name over the relation src (a table name as the query engine
// registers it), for days from..to inclusive (YYYY-MM-DD). Its columns are day and value, ordered by day;
// retention's are cohort_day, day_n, cohort_size, retained and value, ordered by cohort_day and day_n.
func (g Game) SQL(name, src, from, to string) (string, error) {
	if err := g.check(); err != nil {
		return "", err
	}
	for _, d := range []string{from, to} {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return "", fmt.Errorf("day %q: expected YYYY-MM-DD", d)
		}
	}
	rng := fmt.Sprintf("BETWEEN DATE %s AND DATE %s", literal(from), literal(to))
	purchase := "etype = " + literal(g.PurchaseEvent)
	days := fmt.Sprintf(`days AS (SELECT DISTINCT day FROM ev WHERE day %s)`, rng)
	daily := fmt.Sprintf(`daily AS (SELECT day, count(DISTINCT player) AS dau,
  coalesce(sum(amount) FILTER (WHERE %[1]s), 0) AS revenue,
  count(DISTINCT player) FILTER (WHERE %[1]s) AS paying FROM ev WHERE day %[2]s GROUP BY day)`, purchase, rng)
	with := "WITH " + g.events(src) + ", "
	switch name {
	case "dau":
		return with + daily + " SELECT day, dau AS value FROM daily ORDER BY day", nil
	case "wau", "mau":
		span := 6
		if name == "mau" {
			span = 29
		}
		return with + days + fmt.Sprintf(` SELECT d.day, (SELECT count(DISTINCT player) FROM ev WHERE ev.day BETWEEN d.day - %d AND d.day) AS value
FROM days d ORDER BY d.day`, span), nil
	case "new_players":
		return with + `firsts AS (SELECT player, min(day) AS day FROM ev GROUP BY player)` + fmt.Sprintf(`
SELECT day, count(*) AS value FROM firsts WHERE day %s GROUP BY day ORDER BY day`, rng), nil
	case "revenue":
		return with + daily + " SELECT day, revenue AS value FROM daily ORDER BY day", nil
	case "paying_users":
		return with + daily + " SELECT day, paying AS value FROM daily ORDER BY day", nil
	case "arpdau":
		return with + daily + " SELECT day, revenue / dau AS value FROM daily ORDER BY day", nil
	case "arppu":
		return with + daily + " SELECT day, CASE WHEN paying = 0 THEN NULL ELSE revenue / paying END AS value FROM daily ORDER BY day", nil
	case "conversion":
		return with + daily + " SELECT day, paying / dau AS value FROM daily ORDER BY day", nil
	case "retention":
		ns := make([]string, len(RetentionDays))
		for i, n := range RetentionDays {
			ns[i] = fmt.Sprint(n)
		}
		return with + fmt.Sprintf(`firsts AS (SELECT player, min(day) AS cohort_day FROM ev GROUP BY player),
newest AS (SELECT max(day) AS day FROM ev),
cohorts AS (SELECT cohort_day, count(*) AS cohort_size FROM firsts WHERE cohort_day %s GROUP BY cohort_day),
ns AS (SELECT unnest([%s]) AS day_n),
active AS (SELECT DISTINCT player, day FROM ev),
ret AS (SELECT c.cohort_day, ns.day_n, c.cohort_size, count(DISTINCT a.player) AS retained
  FROM cohorts c CROSS JOIN ns CROSS JOIN newest
  JOIN firsts f ON f.cohort_day = c.cohort_day
  LEFT JOIN active a ON a.player = f.player AND a.day = c.cohort_day + ns.day_n
  WHERE c.cohort_day + ns.day_n <= newest.day
  GROUP BY c.cohort_day, ns.day_n, c.cohort_size)
SELECT cohort_day, day_n, cohort_size, retained, retained / cohort_size AS value FROM ret
ORDER BY cohort_day, day_n`, rng, strings.Join(ns, ", ")), nil
	}
	return "", fmt.Errorf("unknown metric %q (expected one of: %s)", name, strings.Join(Names, ", "))
}
