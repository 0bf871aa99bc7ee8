package metrics

import (
	"fmt"
	"strings"
	"time"
)

// sqlVersion changes when the SQL below changes what a metric computes, so materialized metrics are
// recomputed whole (it is part of Def.Fingerprint).
const sqlVersion = "1"

// scope is one computation of a metric: over which relation, for which days (nil: all), and which breakdowns
// ("" for the total), all computed in one pass.
type scope struct {
	src  string   // the relation, quoted, e.g. "staging"."game_events"
	days []string // YYYY-MM-DD, sorted; nil means every day
	dims []string // nil means the total only
}

// Output columns of every computation, in order.
var outputColumns = []string{"day", "key", "n", "event", "cohort_size", "retained", "value"}

// quote quotes a SQL identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// literal quotes a SQL string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteTable quotes namespace.table.
func quoteTable(name string) string {
	ns, t, _ := strings.Cut(name, ".")
	return quote(ns) + "." + quote(t)
}

// dayExpr is the local day of the time field; q qualifies column names (e.g. "t.").
func (d *Def) dayExpr(q string) string {
	return fmt.Sprintf("CAST((CAST(%s%s AS TIMESTAMPTZ) AT TIME ZONE %s) AS DATE)", q, quote(d.TimeField), literal(d.TimeZone))
}

// keyExpr is a row's key under one breakdown, "DIMENSION=VALUE" ("=" for the total; a dimension name never
// holds "="); q qualifies column names.
func keyExpr(q, dim string) string {
	if dim == "" {
		return "'='"
	}
	return fmt.Sprintf("%s || coalesce(CAST(%s%s AS VARCHAR), '')", literal(dim+"="), q, quote(dim))
}

// keysExpr is a row's keys under every breakdown of dims: one key, or a list unnested into one row each, so
// that one pass computes the total and every breakdown (every relation below groups by key).
func keysExpr(q string, dims []string) string {
	if len(dims) <= 1 {
		dim := ""
		if len(dims) == 1 {
			dim = dims[0]
		}
		return keyExpr(q, dim)
	}
	keys := make([]string, len(dims))
	for i, d := range dims {
		keys[i] = keyExpr(q, d)
	}
	return "unnest([" + strings.Join(keys, ", ") + "])"
}

// splitKey splits a key into its dimension and value.
func splitKey(key string) (dim, value string) {
	dim, value, _ = strings.Cut(key, "=")
	return dim, value
}

// timeBounds returns a condition keeping only rows whose time can fall on days from-before .. to+after
// (local days), with a day of slack on both sides for any zone offset; "" when days is nil.
func (d *Def) timeBounds(days []string, before, after int) string {
	if len(days) == 0 {
		return ""
	}
	first, _ := time.Parse(time.DateOnly, days[0])
	last, _ := time.Parse(time.DateOnly, days[len(days)-1])
	lo := first.AddDate(0, 0, -before-1)
	hi := last.AddDate(0, 0, after+2)
	return fmt.Sprintf(" AND %s >= TIMESTAMPTZ %s AND %s < TIMESTAMPTZ %s", quote(d.TimeField), literal(lo.Format("2006-01-02 15:04:05+00")),
		quote(d.TimeField), literal(hi.Format("2006-01-02 15:04:05+00")))
}

// dayIn is a condition on col keeping the scope's days.
func dayIn(col string, days []string) string {
	if days == nil {
		return "TRUE"
	}
	if len(days) == 0 {
		return "FALSE"
	}
	lits := make([]string, len(days))
	for i, d := range days {
		lits[i] = "DATE " + literal(d)
	}
	return col + " IN (" + strings.Join(lits, ", ") + ")"
}

// events is the CTE every computation starts from: ev(player, ts, day, etype, key[, amount]) over the rows
// that count, restricted by bounds (see timeBounds).
func (d *Def) events(s scope, bounds string, withAmount bool) string {
	col := func(name string) string { return "t." + quote(name) }
	cols := fmt.Sprintf("%s AS player, CAST(%s AS TIMESTAMPTZ) AS ts, %s AS day, %s AS etype, %s AS key",
		col(d.PlayerField), col(d.TimeField), d.dayExpr("t."), col(d.EventTypeField), keysExpr("t.", s.dims))
	from := s.src + " t"
	if withAmount {
		amount := fmt.Sprintf("CAST(%s AS DECIMAL(18,4))", col(d.AmountField))
		if len(d.Rates) > 0 {
			amount += " * r.rate"
			cols += fmt.Sprintf(", CAST(%s AS VARCHAR) AS currency, r.rate IS NULL AS unpriced", col(d.CurrencyField))
			from += " LEFT JOIN " + d.ratesValues() + " ON r.currency = " + col(d.CurrencyField)
		} else {
			cols += ", NULL::VARCHAR AS currency, FALSE AS unpriced"
		}
		cols += ", " + amount + " AS amount"
	}
	where := fmt.Sprintf("%s IS NOT NULL AND %s IS NOT NULL", col(d.PlayerField), col(d.TimeField))
	if d.Filter != "" {
		where += " AND (" + d.Filter + ")"
	}
	return fmt.Sprintf("ev AS (SELECT %s FROM %s WHERE %s%s)", cols, from, where, strings.ReplaceAll(bounds, " "+quote(d.TimeField)+" ", " "+col(d.TimeField)+" "))
}

// unpricedSQL lists purchases the rates cannot convert (currency, first day, rows), for revenue kinds with
// rates; "" otherwise.
func (d *Def) unpricedSQL(s scope) string {
	if len(d.Rates) == 0 {
		return ""
	}
	return "WITH " + d.events(s, d.timeBounds(s.days, 0, 0), true) + fmt.Sprintf(`
SELECT coalesce(currency, '(none)') AS currency, min(day) AS first_day, count(*) AS n FROM ev WHERE unpriced AND etype = %s AND %s
GROUP BY 1 ORDER BY 1 LIMIT 5`, literal(d.PurchaseEvent), dayIn("day", s.days))
}

// ratesValues is the rates as an inline relation r(currency, rate).
func (d *Def) ratesValues() string {
	rows := make([]string, len(d.Rates))
	for i, r := range d.Rates {
		rows[i] = fmt.Sprintf("(%s, CAST(%s AS DECIMAL(18,9)))", literal(r.Currency), literal(r.Rate))
	}
	return "(VALUES " + strings.Join(rows, ", ") + ") AS r(currency, rate)"
}

// computeSQL returns the query computing d in scope s, with the columns outputColumns ordered by day, key
// and n.
func (d *Def) computeSQL(s scope) (string, error) {
	in := dayIn("day", s.days)
	order := " ORDER BY 1, 2, 3"
	switch d.Kind {
	case KindActive:
		w := d.WindowDays
		// A player active on day a counts on days a .. a+w-1; each active day opens an interval that ends at the
		// player's next active day or after w days, whichever is first, so a player's intervals never overlap
		// and a running sum of +1 at each start and -1 at each end counts the distinct players of every day in
		// one pass. Every day with data starts an interval, so the running sum has a value there.
		return "WITH " + d.events(s, d.timeBounds(s.days, w-1, 0), false) + fmt.Sprintf(`,
pd AS (SELECT DISTINCT player, day, key FROM ev),
iv AS (SELECT key, day AS s, least(coalesce(lead(day) OVER (PARTITION BY player, key ORDER BY day), day + %[2]d), day + %[2]d) AS e FROM pd),
deltas AS (SELECT key, s AS day, 1 AS c FROM iv UNION ALL SELECT key, e AS day, -1 AS c FROM iv),
running AS (SELECT key, day, sum(sum(c)) OVER (PARTITION BY key ORDER BY day) AS players FROM deltas GROUP BY key, day),
days AS (SELECT DISTINCT day, key FROM pd WHERE %[1]s)
SELECT d.day, d.key, NULL::INTEGER AS n, NULL::VARCHAR AS event, NULL::BIGINT AS cohort_size, NULL::BIGINT AS retained,
  CAST(r.players AS DOUBLE) AS value
FROM days d JOIN running r ON r.key = d.key AND r.day = d.day`, in, w) + order, nil
	case KindNew:
		return "WITH " + d.events(s, "", false) + fmt.Sprintf(`,
firsts AS (SELECT player, min(day) AS day, arg_min(key, (ts, key)) AS key FROM ev GROUP BY player, split_part(key, '=', 1)),
days AS (SELECT DISTINCT day, key FROM ev WHERE %s)
SELECT d.day, d.key, NULL::INTEGER AS n, NULL::VARCHAR AS event, NULL::BIGINT AS cohort_size, NULL::BIGINT AS retained,
  CAST(count(f.player) AS DOUBLE) AS value
FROM days d LEFT JOIN firsts f ON f.day = d.day AND f.key = d.key
GROUP BY d.day, d.key`, in) + order, nil
	case KindRetention:
		ns := make([]string, len(d.RetentionDays))
		for i, n := range d.RetentionDays {
			ns[i] = fmt.Sprint(n)
		}
		retained := "count(a.player)"
		// Only the days some cohort is asked about.
		join := `LEFT JOIN (SELECT DISTINCT player, day FROM ev WHERE key = '=' AND day IN (SELECT DISTINCT cohort_day + n FROM members)) a
  ON a.player = m.player AND a.day = m.cohort_day + m.n`
		if d.RetentionMode == "rolling" {
			retained = "count(*) FILTER (WHERE l.last_day >= m.cohort_day + m.n)"
			join = "JOIN (SELECT player, max(day) AS last_day FROM ev WHERE key = '=' GROUP BY player) l ON l.player = m.player"
		}
		return "WITH " + d.events(s, "", false) + fmt.Sprintf(`,
firsts AS (SELECT player, min(day) AS cohort_day, arg_min(key, (ts, key)) AS key FROM ev GROUP BY player, split_part(key, '=', 1)),
newest AS (SELECT max(day) AS day FROM ev WHERE key = '='),
cohorts AS (SELECT cohort_day, key, count(*) AS cohort_size FROM firsts WHERE %s GROUP BY cohort_day, key),
ns AS (SELECT unnest([%s]) AS n),
members AS (SELECT f.player, f.cohort_day, f.key, ns.n FROM firsts f JOIN cohorts c ON c.cohort_day = f.cohort_day AND c.key = f.key
  CROSS JOIN ns CROSS JOIN newest WHERE f.cohort_day + ns.n <= newest.day),
ret AS (SELECT m.cohort_day, m.key, m.n, %s AS retained FROM members m %s GROUP BY m.cohort_day, m.key, m.n)
SELECT r.cohort_day AS day, r.key, CAST(r.n AS INTEGER) AS n, NULL::VARCHAR AS event, c.cohort_size, r.retained,
  r.retained / c.cohort_size AS value
FROM ret r JOIN cohorts c ON c.cohort_day = r.cohort_day AND c.key = r.key`, dayIn("cohort_day", s.days), strings.Join(ns, ", "), retained, join) + order, nil
	case KindRevenue, KindPaying, KindARPDAU, KindARPPU, KindConversion:
		purchase := "etype = " + literal(d.PurchaseEvent)
		value := map[string]string{
			KindRevenue:    "CAST(round(rev, 6) AS DOUBLE)",
			KindPaying:     "CAST(paying AS DOUBLE)",
			KindARPDAU:     "CAST(round(rev, 6) AS DOUBLE) / dau",
			KindARPPU:      "CASE WHEN paying = 0 THEN NULL ELSE CAST(round(rev, 6) AS DOUBLE) / paying END",
			KindConversion: "paying / dau",
		}[d.Kind]
		return "WITH " + d.events(s, d.timeBounds(s.days, 0, 0), true) + fmt.Sprintf(`,
daily AS (SELECT day, key, count(DISTINCT player) AS dau, coalesce(sum(amount) FILTER (WHERE %[1]s), 0) AS rev,
  count(DISTINCT player) FILTER (WHERE %[1]s) AS paying FROM ev WHERE %[2]s GROUP BY day, key)
SELECT day, key, NULL::INTEGER AS n, NULL::VARCHAR AS event, NULL::BIGINT AS cohort_size, NULL::BIGINT AS retained,
  %[3]s AS value FROM daily`, purchase, in, value) + order, nil
	case KindSessions:
		return "WITH " + d.events(s, d.timeBounds(s.days, 0, 0), false) + fmt.Sprintf(`
SELECT day, key, NULL::INTEGER AS n, NULL::VARCHAR AS event, NULL::BIGINT AS cohort_size, NULL::BIGINT AS retained,
  CAST(count(*) FILTER (WHERE etype = %s) AS DOUBLE) AS value FROM ev WHERE %s GROUP BY day, key`, literal(d.SessionEvent), in) + order, nil
	case KindFunnel:
		return d.funnelSQL(s), nil
	case KindCustom:
		cols := fmt.Sprintf("*, %s AS __day, %s AS __key", d.dayExpr(""), keysExpr("", s.dims))
		where := fmt.Sprintf("%s IS NOT NULL AND %s IS NOT NULL", quote(d.PlayerField), quote(d.TimeField))
		if d.Filter != "" {
			where += " AND (" + d.Filter + ")"
		}
		return fmt.Sprintf(`WITH ev AS (SELECT %s FROM %s WHERE %s%s)
SELECT __day AS day, __key AS key, NULL::INTEGER AS n, NULL::VARCHAR AS event, NULL::BIGINT AS cohort_size, NULL::BIGINT AS retained,
  CAST((%s) AS DOUBLE) AS value FROM ev WHERE %s GROUP BY __day, __key`, cols, s.src, where, d.timeBounds(s.days, 0, 0), d.SQL, dayIn("__day", s.days)) + order, nil
	}
	return "", fmt.Errorf("metric %s: unknown kind %q", d.Name, d.Kind)
}

// funnelSQL: per player and day with a first-step row, the start time t1 (the first such row that day); each
// later step reached at the earliest row of its event at or after the previous step's time and before t1 plus
// the window.
func (d *Def) funnelSQL(s scope) string {
	var b strings.Builder
	b.WriteString("WITH " + d.events(s, d.timeBounds(s.days, 0, d.WindowDays), false))
	fmt.Fprintf(&b, `,
r1 AS (SELECT player, day, key, min(ts) AS t1, min(ts) AS t FROM ev WHERE etype = %s AND %s GROUP BY player, day, key)`, literal(d.Steps[0]), dayIn("day", s.days))
	for i := 1; i < len(d.Steps); i++ {
		fmt.Fprintf(&b, `,
r%[1]d AS (SELECT p.player, p.day, p.key, p.t1, min(e.ts) AS t FROM r%[2]d p JOIN ev e ON e.key = '=' AND e.player = p.player AND e.etype = %[3]s
  AND e.ts >= p.t AND e.ts < p.t1 + INTERVAL %[4]d DAY GROUP BY p.player, p.day, p.key, p.t1)`, i+1, i, literal(d.Steps[i]), d.WindowDays)
	}
	var parts []string
	for i, step := range d.Steps {
		parts = append(parts, fmt.Sprintf(`SELECT r1.day, r1.key, %d AS n, %s AS event, count(r%d.t) AS players FROM r1%s GROUP BY r1.day, r1.key`,
			i+1, literal(step), i+1, funnelJoins(i+1)))
	}
	fmt.Fprintf(&b, `
SELECT day, key, CAST(n AS INTEGER) AS n, event, NULL::BIGINT AS cohort_size, NULL::BIGINT AS retained, CAST(players AS DOUBLE) AS value
FROM (%s) ORDER BY 1, 2, 3`, strings.Join(parts, " UNION ALL "))
	return b.String()
}

// funnelJoins left-joins the step relations r2..rN onto r1 by player, day and key.
func funnelJoins(n int) string {
	var b strings.Builder
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&b, " LEFT JOIN r%[1]d ON r%[1]d.player = r1.player AND r%[1]d.day = r1.day AND r%[1]d.key = r1.key", i)
	}
	return b.String()
}

// affectedSQL returns the query listing the days (for retention: cohort days) whose values rows added to
// the table may change, given the relations cur (the table now), delta (the rows added since the last
// refresh) and old (the table then). Its one column is day.
func (d *Def) affectedSQL(cur, delta, old string) string {
	dayE := d.dayExpr("")
	valid := fmt.Sprintf("%s IS NOT NULL AND %s IS NOT NULL", quote(d.PlayerField), quote(d.TimeField))
	if d.Filter != "" {
		valid += " AND (" + d.Filter + ")"
	}
	deltaDays := fmt.Sprintf("SELECT DISTINCT %s AS day FROM %s WHERE %s", dayE, delta, valid)
	shift := func(from, to int) string { // every delta day shifted by from..to days
		return fmt.Sprintf("SELECT DISTINCT dd.day + CAST(s.k AS INTEGER) AS day FROM (%s) dd CROSS JOIN (SELECT unnest(generate_series(%d, %d)) AS k) s", deltaDays, from, to)
	}
	switch d.Kind {
	case KindActive:
		return shift(0, d.WindowDays-1)
	case KindFunnel:
		return shift(-d.WindowDays, 0)
	case KindNew, KindRetention:
		// A player's first day can only move when they have new rows: the days it was and is now.
		firsts := func(rel string) string {
			return fmt.Sprintf("SELECT %s AS player, min(%s) AS day FROM %s WHERE %s AND %s IN (SELECT DISTINCT %s FROM %s WHERE %s) GROUP BY 1",
				quote(d.PlayerField), dayE, rel, valid, quote(d.PlayerField), quote(d.PlayerField), delta, valid)
		}
		q := fmt.Sprintf("SELECT day FROM (%s) UNION SELECT day FROM (%s)", firsts(cur), firsts(old))
		if d.Kind == KindRetention {
			// Cohorts whose day c+N became observable because the newest day moved.
			q += fmt.Sprintf(` UNION SELECT DISTINCT c.day FROM (SELECT max(%[1]s) AS day FROM %[2]s WHERE %[4]s) nw, (SELECT max(%[1]s) AS day FROM %[3]s WHERE %[4]s) od,
  (SELECT unnest([%[5]s]) AS n) ns, (SELECT DISTINCT %[1]s AS day FROM %[2]s WHERE %[4]s) c
  WHERE c.day + ns.n <= nw.day AND (od.day IS NULL OR c.day + ns.n > od.day)`, dayE, cur, old, valid, joinInts(d.RetentionDays))
		}
		return q
	}
	return deltaDays
}
