package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/bigfather/bigfather/internal/platformdb"
)

// The monitor's tables in the platform database.
const (
	// HistoryTable holds one row per (series, sample time, process): a Point as JSON.
	HistoryTable = "bigfather_monitor_history"
	// LeasesTable holds named leases: the process holding "alerts" sends the alert notifications.
	LeasesTable = "bigfather_monitor_leases"
	// SignalsTable holds each process's latest signals per pipeline (consumed records, failing, paused), so
	// that a monitor in any process judges pipelines that other processes run.
	SignalsTable = "bigfather_monitor_signals"
)

var storeSQLite = []string{
	`CREATE TABLE IF NOT EXISTS ` + HistoryTable + ` (
	series   TEXT    NOT NULL,
	at       INTEGER NOT NULL,
	instance TEXT    NOT NULL,
	point    TEXT    NOT NULL,
	PRIMARY KEY (series, at, instance)
)`,
	`CREATE TABLE IF NOT EXISTS ` + SignalsTable + ` (
	pipeline      TEXT    NOT NULL,
	instance      TEXT    NOT NULL,
	at            INTEGER NOT NULL,
	consumed      REAL    NOT NULL,
	failing       INTEGER NOT NULL,
	failing_since INTEGER NOT NULL,
	paused        INTEGER NOT NULL,
	detail        TEXT    NOT NULL,
	PRIMARY KEY (pipeline, instance)
)`,
	`CREATE TABLE IF NOT EXISTS ` + LeasesTable + ` (
	name    TEXT    NOT NULL PRIMARY KEY,
	holder  TEXT    NOT NULL,
	expires INTEGER NOT NULL
)`,
}

var storePostgres = []string{
	`CREATE TABLE IF NOT EXISTS ` + HistoryTable + ` (
	series   text   NOT NULL,
	at       bigint NOT NULL,
	instance text   NOT NULL,
	point    text   NOT NULL,
	PRIMARY KEY (series, at, instance)
)`,
	`CREATE TABLE IF NOT EXISTS ` + SignalsTable + ` (
	pipeline      text             NOT NULL,
	instance      text             NOT NULL,
	at            bigint           NOT NULL,
	consumed      double precision NOT NULL,
	failing       integer          NOT NULL,
	failing_since bigint           NOT NULL,
	paused        integer          NOT NULL,
	detail        text             NOT NULL,
	PRIMARY KEY (pipeline, instance)
)`,
	`CREATE TABLE IF NOT EXISTS ` + LeasesTable + ` (
	name    text   NOT NULL PRIMARY KEY,
	holder  text   NOT NULL,
	expires bigint NOT NULL
)`,
}

// storeLock is the advisory lock Postgres processes take while creating the tables.
const storeLock int64 = 0x62_66_6d_6f_6e // "bfmon"

// Store keeps the monitor's history and signals in the platform database, shared by every process of a
// deployment. It is safe for concurrent use.
type Store struct {
	db *platformdb.DB
}

// OpenStore opens the monitor's tables in the database named by uri (the catalog's sqlite:// or postgres://
// URI), creating them when missing.
func OpenStore(ctx context.Context, uri string) (*Store, error) {
	db, err := platformdb.Open(ctx, uri, platformdb.Schema{
		Purpose: "the monitor's history", SQLite: storeSQLite, Postgres: storePostgres,
		Relations: []string{HistoryTable, SignalsTable, LeasesTable}, Lock: storeLock,
	})
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Signal is one process's latest word on one pipeline.
type Signal struct {
	Pipeline string
	Instance string
	At       time.Time
	// Consumed is the process's records-consumed counter (it restarts at zero with the process).
	Consumed float64
	// Failing says the pipeline's last commit in that process failed, since FailingSince.
	Failing      bool
	FailingSince time.Time
	// Paused says the pipeline is paused in that process; Detail is why, or the last error.
	Paused bool
	Detail string
}

// Beat records a process's signal, replacing its previous one for the pipeline.
func (s *Store) Beat(ctx context.Context, sg Signal) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+SignalsTable+` (pipeline, instance, at, consumed, failing, failing_since, paused, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (pipeline, instance) DO UPDATE SET at = excluded.at, consumed = excluded.consumed, failing = excluded.failing,
failing_since = excluded.failing_since, paused = excluded.paused, detail = excluded.detail`),
		sg.Pipeline, sg.Instance, sg.At.UnixMilli(), sg.Consumed, boolInt(sg.Failing), sg.FailingSince.UnixMilli(), boolInt(sg.Paused), sg.Detail)
	if err != nil {
		return fmt.Errorf("recording the monitor signal of pipeline %s: %w", sg.Pipeline, err)
	}
	return nil
}

// Signals returns the signals of a pipeline written at or after since, one per process.
func (s *Store) Signals(ctx context.Context, pipeline string, since time.Time) ([]Signal, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT instance, at, consumed, failing, failing_since, paused, detail FROM `+SignalsTable+`
WHERE pipeline = ? AND at >= ? ORDER BY instance`), pipeline, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("reading the monitor signals of pipeline %s: %w", pipeline, err)
	}
	defer rows.Close()
	var out []Signal
	for rows.Next() {
		sg := Signal{Pipeline: pipeline}
		var at, since int64
		var failing, paused int
		if err := rows.Scan(&sg.Instance, &at, &sg.Consumed, &failing, &since, &paused, &sg.Detail); err != nil {
			return nil, fmt.Errorf("reading the monitor signals of pipeline %s: %w", pipeline, err)
		}
		sg.At, sg.FailingSince = time.UnixMilli(at), time.UnixMilli(since)
		sg.Failing, sg.Paused = failing != 0, paused != 0
		out = append(out, sg)
	}
	return out, rows.Err()
}

// Append records a process's point of a series (e.g. "pipeline:game-events"), at its sample time in seconds.
func (s *Store) Append(ctx context.Context, series, instance string, p Point) error {
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding a history point of %s: %w", series, err)
	}
	_, err = s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+HistoryTable+` (series, at, instance, point) VALUES (?, ?, ?, ?)
ON CONFLICT (series, at, instance) DO UPDATE SET point = excluded.point`), series, p.At.Unix(), instance, string(data))
	if err != nil {
		return fmt.Errorf("recording a history point of %s: %w", series, err)
	}
	return nil
}

// Points returns a series' points at or after since, oldest first, with the points that several processes
// wrote for one sample time merged (Merge).
func (s *Store) Points(ctx context.Context, series string, since time.Time) ([]Point, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT at, point FROM `+HistoryTable+` WHERE series = ? AND at >= ? ORDER BY at`),
		series, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("reading the history of %s: %w", series, err)
	}
	defer rows.Close()
	byTime := map[int64][]Point{}
	var times []int64
	for rows.Next() {
		var at int64
		var data string
		if err := rows.Scan(&at, &data); err != nil {
			return nil, fmt.Errorf("reading the history of %s: %w", series, err)
		}
		var p Point
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return nil, fmt.Errorf("reading the history of %s: point at %d: %w", series, at, err)
		}
		if _, ok := byTime[at]; !ok {
			times = append(times, at)
		}
		byTime[at] = append(byTime[at], p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the history of %s: %w", series, err)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	out := make([]Point, 0, len(times))
	for _, at := range times {
		out = append(out, Merge(byTime[at]))
	}
	return out, nil
}

// Prune deletes history and signals older than before.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM `+HistoryTable+` WHERE at < ?`), before.Unix()); err != nil {
		return fmt.Errorf("pruning the monitor history: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM `+SignalsTable+` WHERE at < ?`), before.UnixMilli()); err != nil {
		return fmt.Errorf("pruning the monitor signals: %w", err)
	}
	return nil
}

// Lease takes or renews the named lease for holder until now+ttl, and reports whether holder has it: a lease
// another holder renewed before it expired stays theirs.
func (s *Store) Lease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO `+LeasesTable+` (name, holder, expires) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
WHERE `+LeasesTable+`.holder = excluded.holder OR `+LeasesTable+`.expires < ?`), name, holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("taking the %s lease: %w", name, err)
	}
	var got string
	if err := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT holder FROM `+LeasesTable+` WHERE name = ?`), name).Scan(&got); err != nil {
		return false, fmt.Errorf("reading the %s lease: %w", name, err)
	}
	return got == holder, nil
}

// Merge combines the points several processes wrote for one sample time: rates add up (each process counts
// what it consumed and committed), lag and lag seconds take the largest (each process judges every partition
// from the tables), freshness the smallest, commit latency the largest, status the worst.
func Merge(ps []Point) Point {
	if len(ps) == 0 {
		return Point{}
	}
	out := ps[0]
	for _, p := range ps[1:] {
		out.RecordsPerSec += p.RecordsPerSec
		out.RowsPerSec += p.RowsPerSec
		out.RejectedPerSec += p.RejectedPerSec
		out.Lag = max(out.Lag, p.Lag)
		out.LagSeconds = max(out.LagSeconds, p.LagSeconds)
		out.CommitSeconds = max(out.CommitSeconds, p.CommitSeconds)
		out.FreshnessSeconds = min(out.FreshnessSeconds, p.FreshnessSeconds)
		out.Status = Worst(out.Status, p.Status)
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
