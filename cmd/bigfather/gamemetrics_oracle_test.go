package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/lake"
)

// The game-metrics oracle: a small world (testdata/gamemetrics) whose every metric value was worked out by hand.
//
// The world, in Seoul days (Asia/Seoul is UTC+9: Seoul day 2026-03-0N runs from 2026-03-0(N-1)T15:00:00Z to
// 2026-03-0NT15:00:00Z), "D5" meaning 2026-03-05. Players p01..p14, each on one platform, except p02 who plays on
// ios and on pc on D3. Rates: USD 1, KRW 0.00075. Event ids e001..e073 (events.jsonl, then late.jsonl).
//
//	player  platform  first day  active on (Seoul days)              purchases
//	p01     ios       D1         D1 D2 D3 D4 D6 D8 D11               D1 4.99 USD (e003, produced twice), D4 1.99 USD
//	p02     ios (pc)  D1         D1 D3 D5 D8                         D3 9.99 USD on pc; late: D5 6600 KRW
//	p03     android   D1         D1 D2 D9 D10                        D1 1200 KRW at 14:59:59Z, D2 3300 KRW, D10 7700 KRW
//	p04     pc        D1         D1                                  -
//	p05     android   D2         D2 D3 D6 D9                         D2 0.99 USD, D6 10000 KRW (late copy: a duplicate)
//	p06     pc        D2         D2 D4 D7                            -
//	p07     ios       D3         D3 D4 D10                           D3 5500 KRW
//	p08     android   D5         D5 D6 D8 D12                        D5 2200 KRW (at 2026-03-04T15:20Z: UTC says D4)
//	p09     ios       D5         D5 D7 D10                           D5 0.4999 USD at 14:59:59Z, D7 19.99 USD
//	p10     pc        D6 (D4)    D6 D7 D10; late: D4                 -
//	p11     android   D8         D8 D9 D12                           D12 4400 KRW
//	p12     ios       D9         D9 D11                              D9 1500 KRW (produced twice)
//	p13     pc        D11        D11 D12                             D11 2.5 USD
//	p14     android   D12        D12                                 -
//
// Midnight in Seoul: p03's D1 purchase at 2026-03-01T14:59:59Z and D2 session at 2026-03-01T15:00:00Z are one
// UTC day but two Seoul days; p08's first event at 2026-03-04T15:00:00Z is on D5 (UTC: 03-04); p03's session at
// 2026-03-09T14:59:59Z (D9) and item at 2026-03-09T15:00:00Z (D10). Rejected records (never counted): malformed
// JSON (p04 D3), a EUR purchase (p04 D3, not an allowed currency), a purchase without amount (p06 D5), a session
// without platform (p14 D1: would make p14 new on D1), an unknown event type (p02 D10), a level of 500 (p13 D4),
// a session without event_time (p01), a negative amount (p12 D8); late: text that is not JSON, a JPY purchase
// (p09 D8). Duplicates: e003 (right after its original, other partition), e019 and e053 (at the end of the
// first batch), e040 (in the late batch).
//
// Late events, produced after the first `metrics show`: p10's session on D4 (his first day moves from D6 to
// D4), p02's 6600 KRW purchase on D5, p06's item_acquire on D7 (after his D7 session: funnel step 2).
//
// Activity per Seoul day (first batch), which every count below is read from:
//
//	D1 p01 p02 p03 p04      D5 p02 p08 p09          D9  p03 p05 p11 p12
//	D2 p01 p03 p05 p06      D6 p01 p05 p08 p10      D10 p03 p07 p09 p10
//	D3 p01 p02 p05 p07      D7 p06 p09 p10          D11 p01 p12 p13
//	D4 p01 p06 p07          D8 p01 p02 p08 p11      D12 p08 p11 p13 p14

// oracleTopic is the oracle world's topic (the fixture config's pipeline reads it).
const oracleTopic = "gamemetrics.events"

// q is a ratio as the metrics compute it: a plain float64 division of two float64 numbers (a Go constant
// expression such as 1.99 / 3 would be exact and then rounded, which can differ in the last bit).
func q(a, b float64) float64 { return a / b }

// dv is one expected row of a per-day metric: the day and the value, or null.
type dv struct {
	day   string
	value float64
	null  bool
}

// bv is one expected row of a per-day metric broken down by platform.
type bv struct {
	day, platform string
	value         float64
}

// fv is one expected funnel row: the day of the first step, the step (1-based), its event and the players.
type fv struct {
	day   string
	step  int
	event string
	value float64
}

// rv is one expected retention row.
type rv struct {
	cohort                string
	n, cohortSize, retain int
	value                 float64
}

// oracleFirst are the per-day metrics after the first batch, days 2026-03-01..12.
var oracleFirst = map[string][]dv{
	"dau": {
		{"2026-03-01", 4, false}, // p01 p02 p03 p04 (p03: session 14:00Z, purchase 14:59:59Z = 23:59:59 Seoul; p14's session has no platform: rejected)
		{"2026-03-02", 4, false}, // p01 p03 p05 p06 (p03: session 2026-03-01T15:00:00Z = 00:00:00 Seoul)
		{"2026-03-03", 4, false}, // p01 (level_up) p02 p05 p07 (p04's malformed record and EUR purchase are rejected)
		{"2026-03-04", 3, false}, // p01 p06 p07
		{"2026-03-05", 3, false}, // p02 p08 (from 2026-03-04T15:00:00Z) p09 (p06's purchase without amount is rejected)
		{"2026-03-06", 4, false}, // p01 p05 (a purchase only) p08 p10
		{"2026-03-07", 3, false}, // p06 p09 p10
		{"2026-03-08", 4, false}, // p01 p02 p08 p11 (p12's negative purchase is rejected)
		{"2026-03-09", 4, false}, // p03 (session 14:59:59Z) p05 p11 p12
		{"2026-03-10", 4, false}, // p03 (item 2026-03-09T15:00:00Z, purchase 14:59:59Z) p07 p09 p10 (p02's "cheat" is rejected)
		{"2026-03-11", 3, false}, // p01 p12 p13
		{"2026-03-12", 4, false}, // p08 p11 p13 p14
	},
	"wau": {
		{"2026-03-01", 4, false},  // D1: p01 p02 p03 p04
		{"2026-03-02", 6, false},  // D1-D2: + p05 p06
		{"2026-03-03", 7, false},  // D1-D3: + p07
		{"2026-03-04", 7, false},  // D1-D4: nobody new
		{"2026-03-05", 9, false},  // D1-D5: + p08 p09
		{"2026-03-06", 10, false}, // D1-D6: + p10
		{"2026-03-07", 10, false}, // D1-D7: p01..p10
		{"2026-03-08", 10, false}, // D2-D8: p01 p02 p03 (D2) p05 p06 p07 p08 p09 p10 p11; p04 (D1 only) left the window
		{"2026-03-09", 11, false}, // D3-D9: p01 p02 p03 (D9) p05 p06 p07 p08 p09 p10 p11 p12
		{"2026-03-10", 11, false}, // D4-D10: p01 p02 (D5) p03 p05 (D6) p06 p07 p08 p09 p10 p11 p12
		{"2026-03-11", 12, false}, // D5-D11: the 11 of D10's window (p06 via D7, p07 via D10) + p13
		{"2026-03-12", 13, false}, // D6-D12: everybody but p04: p02 via D8, p06 via D7, p07 via D10, p14 new
	},
	"mau": { // every day is within 30 days of D1: everybody seen so far
		{"2026-03-01", 4, false},  // p01..p04
		{"2026-03-02", 6, false},  // + p05 p06
		{"2026-03-03", 7, false},  // + p07
		{"2026-03-04", 7, false},  // nobody new
		{"2026-03-05", 9, false},  // + p08 p09
		{"2026-03-06", 10, false}, // + p10
		{"2026-03-07", 10, false}, // nobody new
		{"2026-03-08", 11, false}, // + p11
		{"2026-03-09", 12, false}, // + p12
		{"2026-03-10", 12, false}, // nobody new
		{"2026-03-11", 13, false}, // + p13
		{"2026-03-12", 14, false}, // + p14
	},
	"new_players": {
		{"2026-03-01", 4, false}, // p01 p02 p03 p04
		{"2026-03-02", 2, false}, // p05 p06 (p03 is D1's)
		{"2026-03-03", 1, false}, // p07
		{"2026-03-04", 0, false}, // a day with data and nobody new (p13's level 500 is rejected)
		{"2026-03-05", 2, false}, // p08 (first event 2026-03-04T15:00:00Z = D5 00:00:00 Seoul) p09
		{"2026-03-06", 1, false}, // p10
		{"2026-03-07", 0, false}, // nobody
		{"2026-03-08", 1, false}, // p11
		{"2026-03-09", 1, false}, // p12
		{"2026-03-10", 0, false}, // nobody
		{"2026-03-11", 1, false}, // p13
		{"2026-03-12", 1, false}, // p14 (not D1: his D1 session was rejected)
	},
	"revenue": { // USD: amount × rate, KRW at 0.00075
		{"2026-03-01", 5.89, false},   // p01 4.99 USD (e003 once, its copy dropped) + p03 1200 KRW = 0.9
		{"2026-03-02", 3.465, false},  // p03 3300 KRW = 2.475 + p05 0.99 USD
		{"2026-03-03", 14.115, false}, // p07 5500 KRW = 4.125 + p02 9.99 USD (p04's EUR purchase rejected)
		{"2026-03-04", 1.99, false},   // p01 1.99 USD
		{"2026-03-05", 2.1499, false}, // p08 2200 KRW = 1.65 + p09 0.4999 USD at 14:59:59Z
		{"2026-03-06", 7.5, false},    // p05 10000 KRW = 7.5
		{"2026-03-07", 19.99, false},  // p09 19.99 USD
		{"2026-03-08", 0, false},      // no purchase (p12's negative amount rejected)
		{"2026-03-09", 1.125, false},  // p12 1500 KRW = 1.125 (e053 once)
		{"2026-03-10", 5.775, false},  // p03 7700 KRW = 5.775 at 14:59:59Z
		{"2026-03-11", 2.5, false},    // p13 2.5 USD
		{"2026-03-12", 3.3, false},    // p11 4400 KRW = 3.3
	},
	"paying_users": {
		{"2026-03-01", 2, false}, // p01 p03
		{"2026-03-02", 2, false}, // p03 p05
		{"2026-03-03", 2, false}, // p02 p07
		{"2026-03-04", 1, false}, // p01
		{"2026-03-05", 2, false}, // p08 p09
		{"2026-03-06", 1, false}, // p05
		{"2026-03-07", 1, false}, // p09
		{"2026-03-08", 0, false}, // nobody
		{"2026-03-09", 1, false}, // p12
		{"2026-03-10", 1, false}, // p03
		{"2026-03-11", 1, false}, // p13
		{"2026-03-12", 1, false}, // p11
	},
	"arpdau": { // revenue / dau
		{"2026-03-01", q(5.89, 4), false},
		{"2026-03-02", q(3.465, 4), false},
		{"2026-03-03", q(14.115, 4), false},
		{"2026-03-04", q(1.99, 3), false},
		{"2026-03-05", q(2.1499, 3), false},
		{"2026-03-06", q(7.5, 4), false},
		{"2026-03-07", q(19.99, 3), false},
		{"2026-03-08", 0, false}, // 0 / 4
		{"2026-03-09", q(1.125, 4), false},
		{"2026-03-10", q(5.775, 4), false},
		{"2026-03-11", q(2.5, 3), false},
		{"2026-03-12", q(3.3, 4), false},
	},
	"arppu": { // revenue / paying_users
		{"2026-03-01", q(5.89, 2), false},
		{"2026-03-02", q(3.465, 2), false},
		{"2026-03-03", q(14.115, 2), false},
		{"2026-03-04", 1.99, false},
		{"2026-03-05", q(2.1499, 2), false},
		{"2026-03-06", 7.5, false},
		{"2026-03-07", 19.99, false},
		{"2026-03-08", 0, true}, // no payer: null
		{"2026-03-09", 1.125, false},
		{"2026-03-10", 5.775, false},
		{"2026-03-11", 2.5, false},
		{"2026-03-12", 3.3, false},
	},
	"conversion": { // paying_users / dau
		{"2026-03-01", 0.5, false},     // 2 / 4
		{"2026-03-02", 0.5, false},     // 2 / 4
		{"2026-03-03", 0.5, false},     // 2 / 4
		{"2026-03-04", q(1, 3), false}, // p01 of p01 p06 p07
		{"2026-03-05", q(2, 3), false}, // p08 p09 of p02 p08 p09
		{"2026-03-06", 0.25, false},    // 1 / 4
		{"2026-03-07", q(1, 3), false}, // p09 of 3
		{"2026-03-08", 0, false},       // 0 / 4
		{"2026-03-09", 0.25, false},    // 1 / 4
		{"2026-03-10", 0.25, false},    // 1 / 4
		{"2026-03-11", q(1, 3), false}, // p13 of 3
		{"2026-03-12", 0.25, false},    // 1 / 4
	},
	"sessions": { // session_start rows
		{"2026-03-01", 3, false}, // p01 p02 p03 (14:00Z) (p14's, without platform, rejected)
		{"2026-03-02", 4, false}, // p03 (2026-03-01T15:00:00Z) p01 p05 p06
		{"2026-03-03", 4, false}, // p02 on ios, p02 on pc, p05, p07 (e019 once, its copy dropped)
		{"2026-03-04", 3, false}, // p01 p06 p07
		{"2026-03-05", 3, false}, // p08 (2026-03-04T15:00:00Z) p09 p02
		{"2026-03-06", 3, false}, // p10 p08 p01
		{"2026-03-07", 3, false}, // p06 p09 p10
		{"2026-03-08", 4, false}, // p01 p02 p11 p08
		{"2026-03-09", 4, false}, // p05 p12 p11 p03 (14:59:59Z)
		{"2026-03-10", 3, false}, // p07 p10 p09
		{"2026-03-11", 3, false}, // p13 p01 p12
		{"2026-03-12", 3, false}, // p14 p13 p08
	},
}

// oracleLate are the rows the late batch changes, each with its new value; every other row stays.
var oracleLate = map[string][]dv{
	"dau":          {{"2026-03-04", 4, false}},                                           // + p10 (late session)
	"wau":          {{"2026-03-04", 8, false}, {"2026-03-05", 10, false}},                // + p10; from D6 on p10 was in every window already
	"mau":          {{"2026-03-04", 8, false}, {"2026-03-05", 10, false}},                // + p10 likewise
	"new_players":  {{"2026-03-04", 1, false}, {"2026-03-06", 0, false}},                 // p10's first day moves from D6 to D4
	"revenue":      {{"2026-03-05", 7.0999, false}},                                      // 2.1499 + p02 6600 KRW = 4.95
	"paying_users": {{"2026-03-05", 3, false}},                                           // p02 p08 p09
	"arpdau":       {{"2026-03-04", 0.4975, false}, {"2026-03-05", q(7.0999, 3), false}}, // 1.99 / 4 (dau grew); 7.0999 / 3
	"arppu":        {{"2026-03-05", q(7.0999, 3), false}},                                // 3 payers now
	"conversion":   {{"2026-03-04", 0.25, false}, {"2026-03-05", 1, false}},              // 1 / 4; 3 / 3
	"sessions":     {{"2026-03-04", 4, false}},                                           // + p10
}

// oracleFunnelFirst: steps session_start → item_acquire → purchase, each within 24h of the player's first
// session of the day and not before the previous step.
var oracleFunnelFirst = []fv{
	{"2026-03-01", 1, "session_start", 3}, // p01 p02 p03 (14:00Z)
	{"2026-03-01", 2, "item_acquire", 3},  // p01, p02, p03 (item at 2026-03-01T15:00:30Z: the next Seoul day, within 24h)
	{"2026-03-01", 3, "purchase", 2},      // p01; p03 with 2026-03-02T05:00Z (his 14:59:59Z purchase came before the item)
	{"2026-03-02", 1, "session_start", 4}, // p03 p01 p05 p06
	{"2026-03-02", 2, "item_acquire", 2},  // p03 p05 (p01 p06: no item within 24h)
	{"2026-03-02", 3, "purchase", 2},      // p03 (05:00Z) p05
	{"2026-03-03", 1, "session_start", 3}, // p02 (twice, counted once) p05 p07
	{"2026-03-03", 2, "item_acquire", 1},  // p07
	{"2026-03-03", 3, "purchase", 1},      // p07 (p02's purchase has no item before it)
	{"2026-03-04", 1, "session_start", 3}, // p01 p06 p07
	{"2026-03-04", 2, "item_acquire", 1},  // p06
	{"2026-03-04", 3, "purchase", 0},      // p06 buys nothing; p01's purchase has no item before it
	{"2026-03-05", 1, "session_start", 3}, // p08 p09 p02
	{"2026-03-05", 2, "item_acquire", 1},  // p08
	{"2026-03-05", 3, "purchase", 1},      // p08
	{"2026-03-06", 1, "session_start", 3}, // p10 p08 p01 (p05 bought without a session)
	{"2026-03-06", 2, "item_acquire", 1},  // p10
	{"2026-03-06", 3, "purchase", 0},      // p10 buys nothing
	{"2026-03-07", 1, "session_start", 3}, // p06 p09 p10
	{"2026-03-07", 2, "item_acquire", 1},  // p09
	{"2026-03-07", 3, "purchase", 1},      // p09
	{"2026-03-08", 1, "session_start", 4}, // p01 p02 p11 p08
	{"2026-03-08", 2, "item_acquire", 1},  // p11
	{"2026-03-08", 3, "purchase", 0},      // p11's purchase is 4 days later
	{"2026-03-09", 1, "session_start", 4}, // p05 p12 p11 p03 (14:59:59Z)
	{"2026-03-09", 2, "item_acquire", 1},  // p03 at 2026-03-09T15:00:00Z
	{"2026-03-09", 3, "purchase", 0},      // p03's purchase at 2026-03-10T14:59:59Z is exactly 24h after: outside; p12 has no item
	{"2026-03-10", 1, "session_start", 3}, // p07 p10 p09
	{"2026-03-10", 2, "item_acquire", 0},  // their items were days before
	{"2026-03-10", 3, "purchase", 0},
	{"2026-03-11", 1, "session_start", 3}, // p13 p01 p12
	{"2026-03-11", 2, "item_acquire", 1},  // p13
	{"2026-03-11", 3, "purchase", 1},      // p13
	{"2026-03-12", 1, "session_start", 3}, // p14 p13 p08
	{"2026-03-12", 2, "item_acquire", 0},
	{"2026-03-12", 3, "purchase", 0},
}

// oracleFunnelLate are the funnel rows the late batch changes.
var oracleFunnelLate = []fv{
	{"2026-03-04", 1, "session_start", 4}, // + p10 (no item within 24h)
	{"2026-03-07", 2, "item_acquire", 2},  // + p06 (item 02:30Z after his 02:00Z session; he buys nothing)
}

// oracleRetentionFirst: cohorts D1 p01-p04, D2 p05 p06, D3 p07, D5 p08 p09, D6 p10, D8 p11, D9 p12, D11 p13,
// D12 p14; the newest day is D12, so N=1 up to cohort D11, N=7 up to cohort D5, N=30 never.
var oracleRetentionFirst = []rv{
	{"2026-03-01", 1, 4, 2, 0.5}, // p01 p03 active on D2
	{"2026-03-01", 7, 4, 2, 0.5}, // p01 p02 active on D8
	{"2026-03-02", 1, 2, 1, 0.5}, // p05 on D3
	{"2026-03-02", 7, 2, 1, 0.5}, // p05 on D9
	{"2026-03-03", 1, 1, 1, 1},   // p07 on D4
	{"2026-03-03", 7, 1, 1, 1},   // p07 on D10
	{"2026-03-05", 1, 2, 1, 0.5}, // p08 on D6
	{"2026-03-05", 7, 2, 1, 0.5}, // p08 on D12 (p09 is not)
	{"2026-03-06", 1, 1, 1, 1},   // p10 on D7
	{"2026-03-08", 1, 1, 1, 1},   // p11 on D9
	{"2026-03-09", 1, 1, 0, 0},   // p12 is not active on D10
	{"2026-03-11", 1, 1, 1, 1},   // p13 on D12
}

// oracleRetentionLate: p10 moves from cohort D6 (which disappears) to cohort D4.
var oracleRetentionLate = []rv{
	{"2026-03-01", 1, 4, 2, 0.5},
	{"2026-03-01", 7, 4, 2, 0.5},
	{"2026-03-02", 1, 2, 1, 0.5},
	{"2026-03-02", 7, 2, 1, 0.5},
	{"2026-03-03", 1, 1, 1, 1},
	{"2026-03-03", 7, 1, 1, 1},
	{"2026-03-04", 1, 1, 0, 0}, // p10 is not active on D5
	{"2026-03-04", 7, 1, 0, 0}, // nor on D11
	{"2026-03-05", 1, 2, 1, 0.5},
	{"2026-03-05", 7, 2, 1, 0.5},
	{"2026-03-08", 1, 1, 1, 1},
	{"2026-03-09", 1, 1, 0, 0},
	{"2026-03-11", 1, 1, 1, 1},
}

// oracleDAUByPlatformFirst: a player counts under each platform of his rows that day.
var oracleDAUByPlatformFirst = []bv{
	{"2026-03-01", "android", 1}, {"2026-03-01", "ios", 2}, {"2026-03-01", "pc", 1}, // p03; p01 p02; p04
	{"2026-03-02", "android", 2}, {"2026-03-02", "ios", 1}, {"2026-03-02", "pc", 1}, // p03 p05; p01; p06
	{"2026-03-03", "android", 1}, {"2026-03-03", "ios", 3}, {"2026-03-03", "pc", 1}, // p05; p01 p02 p07; p02 again
	{"2026-03-04", "ios", 2}, {"2026-03-04", "pc", 1}, // p01 p07; p06
	{"2026-03-05", "android", 1}, {"2026-03-05", "ios", 2}, // p08; p02 p09
	{"2026-03-06", "android", 2}, {"2026-03-06", "ios", 1}, {"2026-03-06", "pc", 1}, // p05 p08; p01; p10
	{"2026-03-07", "ios", 1}, {"2026-03-07", "pc", 2}, // p09; p06 p10
	{"2026-03-08", "android", 2}, {"2026-03-08", "ios", 2}, // p08 p11; p01 p02
	{"2026-03-09", "android", 3}, {"2026-03-09", "ios", 1}, // p03 p05 p11; p12
	{"2026-03-10", "android", 1}, {"2026-03-10", "ios", 2}, {"2026-03-10", "pc", 1}, // p03; p07 p09; p10
	{"2026-03-11", "ios", 2}, {"2026-03-11", "pc", 1}, // p01 p12; p13
	{"2026-03-12", "android", 3}, {"2026-03-12", "pc", 1}, // p08 p11 p14; p13
}

// oracleRevenueByPlatformFirst: revenue of each platform's rows, 0 where the platform has rows but no purchase.
var oracleRevenueByPlatformFirst = []bv{
	{"2026-03-01", "android", 0.9}, {"2026-03-01", "ios", 4.99}, {"2026-03-01", "pc", 0}, // p03 1200 KRW; p01
	{"2026-03-02", "android", 3.465}, {"2026-03-02", "ios", 0}, {"2026-03-02", "pc", 0}, // p03 2.475 + p05 0.99
	{"2026-03-03", "android", 0}, {"2026-03-03", "ios", 4.125}, {"2026-03-03", "pc", 9.99}, // p07 5500 KRW; p02 on pc
	{"2026-03-04", "ios", 1.99}, {"2026-03-04", "pc", 0}, // p01
	{"2026-03-05", "android", 1.65}, {"2026-03-05", "ios", 0.4999}, // p08 2200 KRW; p09
	{"2026-03-06", "android", 7.5}, {"2026-03-06", "ios", 0}, {"2026-03-06", "pc", 0}, // p05 10000 KRW
	{"2026-03-07", "ios", 19.99}, {"2026-03-07", "pc", 0}, // p09
	{"2026-03-08", "android", 0}, {"2026-03-08", "ios", 0},
	{"2026-03-09", "android", 0}, {"2026-03-09", "ios", 1.125}, // p12 1500 KRW
	{"2026-03-10", "android", 5.775}, {"2026-03-10", "ios", 0}, {"2026-03-10", "pc", 0}, // p03 7700 KRW
	{"2026-03-11", "ios", 0}, {"2026-03-11", "pc", 2.5}, // p13
	{"2026-03-12", "android", 3.3}, {"2026-03-12", "pc", 0}, // p11 4400 KRW
}

// The by-platform rows the late batch changes.
var (
	oracleDAUByPlatformLate     = []bv{{"2026-03-04", "pc", 2}}       // p06 p10
	oracleRevenueByPlatformLate = []bv{{"2026-03-05", "ios", 5.4499}} // p09 0.4999 + p02 6600 KRW = 4.95
)

// oracleNewest is the newest event time in the table, both times: p14's level_up (the late events are older).
var oracleNewest = time.Date(2026, 3, 12, 13, 30, 0, 0, time.UTC)

// TestGameMetricsOracle: the game pack's metrics over testdata/gamemetrics match the values worked out by hand
// (in Asia/Seoul days, with rejected records and duplicates never counting); after late events for days already
// computed, a second `metrics show` gives exactly the changed days' new values and every other row unchanged.
func TestGameMetricsOracle(t *testing.T) {
	e := newEnv(t)
	fixture, err := filepath.Abs(filepath.Join("testdata", "gamemetrics"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BF_GAMEMETRICS_BROKER", e.broker.Addr())
	t.Setenv("BF_GAMEMETRICS_DIR", e.dir)
	cfg := filepath.Join(fixture, "bigfather.yaml")
	createTopic(t, e, oracleTopic, 2)

	// First batch: 70 events, 3 copies, 8 rejected records.
	produceFixture(t, e, filepath.Join(fixture, "events.jsonl"))
	e.stageOracle(cfg)
	// Missing: p14's platform, p06's amount, p01's event_time; p12's amount -2 and p13's level 500; p04's EUR.
	e.oracleCounts(70, "missing_field 3, not_in_enum 1, not_json 1, out_of_range 2, unplanned_event 1")
	t.Run("first batch", func(t *testing.T) {
		checkOracle(t, cfg, oracleFirst, oracleFunnelFirst, oracleRetentionFirst, oracleDAUByPlatformFirst, oracleRevenueByPlatformFirst)
		// A range that starts later: the rolling windows still reach back before it.
		checkDaily(t, cfg, "wau", "2026-03-08", oracleFirst["wau"][7:])
		checkDaily(t, cfg, "mau", "2026-03-08", oracleFirst["mau"][7:])
	})

	// Late batch: 3 events for days already computed, a copy of a first-batch event, 2 rejected records.
	produceFixture(t, e, filepath.Join(fixture, "late.jsonl"))
	e.stageOracle(cfg)
	// + "not json at all" and p09's JPY purchase.
	e.oracleCounts(73, "missing_field 3, not_in_enum 2, not_json 2, out_of_range 2, unplanned_event 1")
	daily := map[string][]dv{}
	for name, rows := range oracleFirst {
		daily[name] = changed(t, name, rows, oracleLate[name], func(r dv) string { return r.day })
	}
	for name := range oracleLate {
		if _, ok := oracleFirst[name]; !ok {
			t.Fatalf("oracleLate names %q, which oracleFirst does not", name)
		}
	}
	funnel := changed(t, "funnel", oracleFunnelFirst, oracleFunnelLate, func(r fv) string { return fmt.Sprint(r.day, r.step) })
	dauBy := changed(t, "dau by platform", oracleDAUByPlatformFirst, oracleDAUByPlatformLate, func(r bv) string { return r.day + r.platform })
	revenueBy := changed(t, "revenue by platform", oracleRevenueByPlatformFirst, oracleRevenueByPlatformLate, func(r bv) string { return r.day + r.platform })
	t.Run("after late events", func(t *testing.T) {
		checkOracle(t, cfg, daily, funnel, oracleRetentionLate, dauBy, revenueBy)
	})
}

// changed returns base with the rows of late replacing those of the same key; each late row must replace one
// whose value differs (a late row equal to the first one would check nothing).
func changed[R comparable](t *testing.T, what string, base, late []R, key func(R) string) []R {
	t.Helper()
	out := slices.Clone(base)
	for _, l := range late {
		i := slices.IndexFunc(out, func(r R) bool { return key(r) == key(l) })
		switch {
		case i < 0:
			t.Fatalf("%s: late row %+v replaces no first-batch row", what, l)
		case out[i] == l:
			t.Fatalf("%s: late row %+v equals the first-batch row", what, l)
		}
		out[i] = l
	}
	return out
}

// produceFixture produces every line of a JSON-lines file as one record, line i on partition i%2 (so a copy
// right after its original lands on the other partition).
func produceFixture(t *testing.T, e *env, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []*kgo.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		recs = append(recs, &kgo.Record{Partition: int32(len(recs) % 2), Value: slices.Clone(sc.Bytes())})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	produceTo(t, e, oracleTopic, recs)
}

// stageOracle runs `bigfather stage` until both tables store the topic's end offsets, then stops it.
func (e *env) stageOracle(cfg string) {
	e.t.Helper()
	p := e.startStage(cfg)
	ends := e.endOffsets(oracleTopic)
	caughtUp := func() bool {
		lk := e.openLake()
		defer lk.Close()
		for _, name := range []string{"staging.game_events", "staging.game_events_rejected"} {
			tbl, err := lk.LoadTable(context.Background(), name)
			if err != nil {
				return false
			}
			stored := lake.StoredOffsets(tbl, "game")
			for tp, end := range ends {
				if end > 0 && stored.Get(tp) != end {
					return false
				}
			}
		}
		return true
	}
	// Its signal handler is installed before it logs "staging": a SIGTERM before that would kill it.
	for deadline := time.Now().Add(120 * time.Second); !strings.Contains(readFile(p.log), "msg=staging") || !caughtUp(); time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("stage did not commit every partition within 120s; log:\n%s", p.tail())
		}
	}
	if code := p.stop(e.t, 60*time.Second); code != 0 {
		e.t.Fatalf("stage exited %d after SIGTERM, want 0; log:\n%s", code, p.tail())
	}
}

// oracleCounts checks the staged rows and the rejected ones by reason ("code count, ..."), so that a metric
// mismatch is not a staging one.
func (e *env) oracleCounts(rows int64, rejected string) {
	e.t.Helper()
	e.assertRows("staging.game_events", rows)
	var got []string
	for _, r := range e.query("select reason_code, count(*) from staging.game_events_rejected group by 1 order by 1") {
		got = append(got, fmt.Sprint(r[0], " ", r[1]))
	}
	if strings.Join(got, ", ") != rejected {
		e.t.Errorf("staging.game_events_rejected holds %q, want %q", strings.Join(got, ", "), rejected)
	}
}

// checkOracle runs `metrics show` for every metric of the pack and for the two breakdowns over 2026-03-01..12.
func checkOracle(t *testing.T, cfg string, daily map[string][]dv, funnel []fv, retention []rv, dauBy, revenueBy []bv) {
	t.Helper()
	for _, name := range []string{"dau", "wau", "mau", "new_players", "revenue", "paying_users", "arpdau", "arppu", "conversion", "sessions"} {
		checkDaily(t, cfg, name, "2026-03-01", daily[name])
	}

	var want []map[string]any
	for _, r := range funnel {
		want = append(want, map[string]any{"day": r.day, "step": float64(r.step), "event": r.event, "value": r.value})
	}
	compareRows(t, "funnel", showMetric(t, cfg, "funnel", "2026-03-01", ""), want, "day", "step")

	want = nil
	for _, r := range retention {
		want = append(want, map[string]any{"cohort_day": r.cohort, "day_n": float64(r.n), "cohort_size": float64(r.cohortSize),
			"retained": float64(r.retain), "value": r.value})
	}
	compareRows(t, "retention", showMetric(t, cfg, "retention", "2026-03-01", ""), want, "cohort_day", "day_n")

	for _, by := range []struct {
		name string
		rows []bv
	}{{"dau", dauBy}, {"revenue", revenueBy}} {
		want = nil
		for _, r := range by.rows {
			want = append(want, map[string]any{"day": r.day, "platform": r.platform, "value": r.value})
		}
		compareRows(t, by.name+" --by platform", showMetric(t, cfg, by.name, "2026-03-01", "platform"), want, "day", "platform")
	}
}

// checkDaily compares a per-day metric's rows from day from to 2026-03-12 with want, in order.
func checkDaily(t *testing.T, cfg, name, from string, want []dv) {
	t.Helper()
	var rows []map[string]any
	for _, r := range want {
		row := map[string]any{"day": r.day, "value": r.value}
		if r.null {
			row["value"] = nil
		}
		rows = append(rows, row)
	}
	compareRows(t, name, showMetric(t, cfg, name, from, ""), rows)
}

// shown is `metrics show --format json`'s object, rows as decoded (numbers float64, null nil).
type shown struct {
	Metric        string           `json:"metric"`
	From          string           `json:"from"`
	To            string           `json:"to"`
	By            string           `json:"by"`
	CompleteUntil string           `json:"complete_until"`
	Rows          []map[string]any `json:"rows"`
}

// showMetric runs `bigfather metrics show` and checks the object's head: metric, range, by and complete_until.
func showMetric(t *testing.T, cfg, name, from, by string) []map[string]any {
	t.Helper()
	const to = "2026-03-12"
	args := []string{"metrics", "show", name, "--from", from, "--to", to, "--format", "json", "--config", cfg}
	if by != "" {
		args = append(args, "--by", by)
	}
	out := runCLI(t, args...)
	var s shown
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("metrics show %s: %v\n%s", name, err, out)
	}
	if s.Metric != name || s.From != from || s.To != to || s.By != by {
		t.Errorf("metrics show %s --from %s --to %s --by %q: head metric %q from %q to %q by %q", name, from, to, by, s.Metric, s.From, s.To, s.By)
	}
	if until, err := time.Parse(time.RFC3339Nano, s.CompleteUntil); err != nil || !until.Equal(oracleNewest) || !strings.HasSuffix(s.CompleteUntil, "Z") {
		t.Errorf("metrics show %s: complete_until %q, want %s (RFC 3339, UTC)", name, s.CompleteUntil, oracleNewest.Format(time.RFC3339))
	}
	return s.Rows
}

// compareRows compares got with want row by row: strings and float64 numbers with ==, null as nil. With sortBy,
// both are sorted by those keys first (the order within a day is not part of the contract).
func compareRows(t *testing.T, what string, got, want []map[string]any, sortBy ...string) {
	t.Helper()
	if len(sortBy) > 0 {
		cmp := func(a, b map[string]any) int {
			for _, k := range sortBy {
				if c := strings.Compare(fmt.Sprint(a[k]), fmt.Sprint(b[k])); c != 0 {
					return c
				}
			}
			return 0
		}
		slices.SortStableFunc(got, cmp)
		slices.SortStableFunc(want, cmp)
	}
	var diffs []string
	for i := range max(len(got), len(want)) {
		var g, w map[string]any
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !sameRow(g, w) {
			diffs = append(diffs, fmt.Sprintf("  row %d: got %s, want %s", i, rowString(g), rowString(w)))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("%s: %d of %d rows differ:\n%s", what, len(diffs), max(len(got), len(want)), strings.Join(diffs, "\n"))
	}
}

// sameRow reports whether two decoded rows have the same keys and equal values (float64 compared with ==).
func sameRow(a, b map[string]any) bool {
	if a == nil || b == nil || len(a) != len(b) {
		return a == nil && b == nil
	}
	for k, av := range a {
		bval, ok := b[k]
		if !ok {
			return false
		}
		switch x := av.(type) {
		case float64:
			if y, ok := bval.(float64); !ok || x != y {
				return false
			}
		case string:
			if y, ok := bval.(string); !ok || x != y {
				return false
			}
		case nil:
			if bval != nil {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// rowString prints a row with its keys sorted and numbers in full.
func rowString(r map[string]any) string {
	if r == nil {
		return "(none)"
	}
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch v := r[k].(type) {
		case float64:
			fmt.Fprintf(&b, "%s:%s", k, strconv.FormatFloat(v, 'g', -1, 64))
		default:
			fmt.Fprintf(&b, "%s:%v", k, v)
		}
	}
	b.WriteByte('}')
	return b.String()
}
