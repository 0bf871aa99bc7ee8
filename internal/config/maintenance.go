package config

import "time"

// Maintenance holds the table-maintenance settings (yaml: maintenance): how often `stage` and `up` compact
// small data files, expire old snapshots and remove orphan files of the tables their pipelines write, and
// what `bigfather maintain` does when run by hand.
type Maintenance struct {
	// Interval is the time between two maintenance runs inside stage/up; 0 runs none there (yaml: interval;
	// default 10m). The first run starts one interval after start.
	Interval time.Duration
	// TargetFileSize is the size compaction aims its data files at (yaml: target_file_size; default 128MiB).
	// Files below three quarters of it are small: compaction rewrites them, per partition, into fewer files.
	TargetFileSize int64
	// SnapshotRetention is how long a snapshot stays in a table's history (yaml: snapshot_retention;
	// default 24h); at least MinSnapshots snapshots stay whatever their age.
	SnapshotRetention time.Duration
	// MinSnapshots is how many of the newest snapshots expiry always keeps (yaml: min_snapshots; default 10).
	MinSnapshots int
	// OrphanAge is how old a file under a table's location that no live snapshot references must be before
	// it is deleted (yaml: orphan_age; default 24h). It must be longer than any write of data files takes
	// to commit: a younger unreferenced file may belong to a commit in progress.
	OrphanAge time.Duration
}

var maintenanceKeys = []key[Maintenance]{
	{name: "interval", def: "10m", decode: set(duration, func(m *Maintenance) *time.Duration { return &m.Interval })},
	{name: "target_file_size", def: "128MiB", decode: set(size, func(m *Maintenance) *int64 { return &m.TargetFileSize })},
	{name: "snapshot_retention", def: "24h", decode: set(duration, func(m *Maintenance) *time.Duration { return &m.SnapshotRetention })},
	{name: "min_snapshots", def: "10", decode: set(integer, func(m *Maintenance) *int { return &m.MinSnapshots })},
	{name: "orphan_age", def: "24h", decode: set(duration, func(m *Maintenance) *time.Duration { return &m.OrphanAge })},
}

// Limits of the maintenance keys.
const (
	minTargetFileSize = 1 << 20 // 1 MiB: smaller targets make more files, not fewer
	minOrphanAge      = time.Second
)

// maintenance checks the maintenance block. A config built in Go that leaves it zero gets the defaults.
func (v *validator) maintenance(c *Config) {
	m := &c.Maintenance
	if c.lines == nil && *m == (Maintenance{}) {
		*m = specDefaults(maintenanceKeys)
	}
	if v.broken("maintenance") {
		return
	}
	if m.Interval < 0 {
		v.fail("maintenance.interval", "must not be negative (0 turns scheduled maintenance off), got %s", m.Interval)
	}
	if m.TargetFileSize < minTargetFileSize {
		v.fail("maintenance.target_file_size", "must be at least 1MiB, got %d bytes", m.TargetFileSize)
	}
	if m.SnapshotRetention < 0 {
		v.fail("maintenance.snapshot_retention", "must not be negative, got %s", m.SnapshotRetention)
	}
	if m.MinSnapshots < 1 {
		v.fail("maintenance.min_snapshots", "must be at least 1 (the current snapshot is always kept), got %d", m.MinSnapshots)
	}
	if m.OrphanAge < minOrphanAge {
		v.fail("maintenance.orphan_age", "must be at least 1s (files younger than this may belong to a commit in progress), got %s", m.OrphanAge)
	}
}
