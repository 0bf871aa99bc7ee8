package metrics

import (
	"fmt"
	"strings"
)

// describeShort is d's one-line meaning: the configured description, or the built-in one.
func (d *Def) describeShort() string {
	if d.Description != "" {
		return d.Description
	}
	switch d.Kind {
	case KindActive:
		if d.WindowDays == 1 {
			return "Daily active players: distinct players with at least one event on the day."
		}
		return fmt.Sprintf("Active players over %d days: distinct players with at least one event in the %d days ending on the day.", d.WindowDays, d.WindowDays)
	case KindNew:
		return "New players: players whose first event in the table falls on the day."
	case KindRetention:
		mode := "active on day N after it"
		if d.RetentionMode == "rolling" {
			mode = "active on day N after it or any later day"
		}
		return fmt.Sprintf("Retention: of the players new on a cohort day, the share %s (N = %s).", mode, joinInts(d.RetentionDays))
	case KindRevenue:
		return "Revenue: the sum of purchase amounts on the day" + d.convertedText() + "."
	case KindPaying:
		return "Paying players: distinct players with at least one purchase on the day."
	case KindARPDAU:
		return "Average revenue per daily active player: revenue / dau."
	case KindARPPU:
		return "Average revenue per paying player: revenue / paying players (empty on days without payers)."
	case KindConversion:
		return "Conversion: the share of the day's active players who paid: paying players / dau."
	case KindSessions:
		return fmt.Sprintf("Sessions: %s events on the day.", d.SessionEvent)
	case KindFunnel:
		return fmt.Sprintf("Funnel: players who went %s in that order, within %d day(s) of the first step.", strings.Join(d.Steps, " → "), d.WindowDays)
	case KindCustom:
		return "Custom: " + d.SQL + " over the day's rows."
	}
	return ""
}

func (d *Def) convertedText() string {
	if len(d.Rates) == 0 {
		return ""
	}
	return fmt.Sprintf(", each converted into %s with the rates in %s", d.ReportingCurrency(), d.RatesFile)
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// Semantics says exactly what d's number means, one paragraph per entry: `bigfather metrics describe` prints
// them and the console shows them beside the chart.
func (d *Def) Semantics() []string {
	out := []string{d.describeShort()}
	out = append(out, fmt.Sprintf("Day boundary: a row's day is the calendar day of %s in %s (midnight to midnight there).", d.TimeField, d.TimeZone))
	active := fmt.Sprintf("A player is %s; a row counts for that player when %s and %s are both set", d.PlayerField, d.PlayerField, d.TimeField)
	if d.Filter != "" {
		active += " and the filter holds: " + d.Filter
	}
	out = append(out, active+". \"Active on a day\" means at least one such row on that day.")
	switch d.Kind {
	case KindActive:
		out = append(out, "There is a value for every day with at least one row; days without rows have none.")
	case KindNew:
		out = append(out, "A player's first day is the day of their earliest row in the whole table, so a late event older than a player's first row moves them to an earlier cohort.")
	case KindRetention:
		out = append(out, fmt.Sprintf("Cohort: the players whose first row falls on the cohort day. retained counts those with a row on day cohort+N%s; value = retained / cohort_size. A cohort has a row for N only once day cohort+N is not after the newest day with data, so a number never shows before it can be known.",
			map[bool]string{true: " or later", false: ""}[d.RetentionMode == "rolling"]))
	case KindRevenue, KindARPDAU, KindARPPU:
		out = append(out, fmt.Sprintf("Revenue counts rows whose %s is %q, summing %s taken to 4 decimal places%s, rounded to 6 decimal places; a day with rows and no purchase has revenue 0. A purchase in a currency the rates file lacks stops the refresh with an error naming it, so no number silently leaves money out.",
			d.EventTypeField, d.PurchaseEvent, d.AmountField, d.convertedText()))
		if d.Kind == KindARPDAU {
			out = append(out, "arpdau = revenue / dau of the same day.")
		}
		if d.Kind == KindARPPU {
			out = append(out, "arppu = revenue / paying players of the same day; null when nobody paid.")
		}
	case KindPaying, KindConversion:
		out = append(out, fmt.Sprintf("A paying player has at least one row whose %s is %q on the day.", d.EventTypeField, d.PurchaseEvent))
		if d.Kind == KindConversion {
			out = append(out, "conversion = paying players / dau of the same day.")
		}
	case KindSessions:
		out = append(out, fmt.Sprintf("Counts rows whose %s is %q (every session start, not distinct players).", d.EventTypeField, d.SessionEvent))
	case KindFunnel:
		out = append(out, fmt.Sprintf("For each player and day with a %q row, the funnel starts at the player's first such row that day; step i is reached by the earliest %q row at or after the time step i-1 was reached and less than %d day(s) after the start. Each step's value is the number of players who reached it.",
			d.Steps[0], "step i's event", d.WindowDays))
	case KindCustom:
		out = append(out, "The value is the aggregate "+d.SQL+" over the day's rows.")
	}
	if len(d.Dimensions) > 0 {
		out = append(out, fmt.Sprintf("Breakdowns (by %s): a player counts under every value they had on that day's rows; new players and cohorts use the value of the player's first row. A value has a row on every day it has rows (revenue 0 on such a day without purchases); rows without a value are under the empty key.", strings.Join(d.Dimensions, ", ")))
	}
	out = append(out,
		"Duplicates: only rows of the staged table count, after staging's deduplication on the event id; a record produced twice counts once.",
		"Rejected and canary rows: records that failed validation land in the _rejected table and never count; monitor probe records never become rows.",
		fmt.Sprintf("Late events count on the day of their %s whenever they arrive: the next refresh recomputes exactly the days (and cohorts) they change.", d.TimeField),
		"Completeness: each number is computed from one snapshot of "+d.Table+"; complete_until is the newest event time in it, and gaps lists the holes the pipeline's completeness report (producer sequence numbers) knows of in the range: a hole between two rows of a producer spans their days; a hole before a producer's first row is placed on that row's day (the lost records may be older); losses after a producer's last row cannot be seen.",
	)
	return out
}
