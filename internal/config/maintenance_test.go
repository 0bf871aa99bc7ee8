package config

import (
	"testing"
	"time"
)

// TestMaintenanceBlock: the maintenance block decodes with units, and every key has its default when absent,
// also for the built-in config of `bigfather up`.
func TestMaintenanceBlock(t *testing.T) {
	cfg, err := Parse("m.yaml", []byte(`maintenance:
  interval: 5s
  target_file_size: 64MiB
  snapshot_retention: 1h
  min_snapshots: 3
  orphan_age: 30m
`+s3Pipelines))
	if err != nil {
		t.Fatal(err)
	}
	want := Maintenance{Interval: 5 * time.Second, TargetFileSize: 64 << 20, SnapshotRetention: time.Hour, MinSnapshots: 3, OrphanAge: 30 * time.Minute}
	if cfg.Maintenance != want {
		t.Errorf("maintenance = %+v, want %+v", cfg.Maintenance, want)
	}
	defaults := Maintenance{Interval: 10 * time.Minute, TargetFileSize: 128 << 20, SnapshotRetention: 24 * time.Hour, MinSnapshots: 10, OrphanAge: 24 * time.Hour}
	cfg, err = Parse("d.yaml", []byte(s3Pipelines))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Maintenance != defaults {
		t.Errorf("default maintenance = %+v, want %+v", cfg.Maintenance, defaults)
	}
	if got := Default(t.TempDir()).Maintenance; got != defaults {
		t.Errorf("Default(dir).Maintenance = %+v, want %+v", got, defaults)
	}
	cfg, err = Parse("off.yaml", []byte("maintenance: {interval: 0}\n"+s3Pipelines))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Maintenance.Interval != 0 || cfg.Maintenance.MinSnapshots != 10 {
		t.Errorf("interval 0 must turn the schedule off and keep the other defaults: %+v", cfg.Maintenance)
	}
}

// TestMaintenanceErrors: each bad maintenance value names file, line and key.
func TestMaintenanceErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{"unknown key", "maintenance:\n  intervall: 5s\n" + s3Pipelines,
			`bad.yaml:2: maintenance.intervall: unknown key (expected one of: interval, target_file_size, snapshot_retention, min_snapshots, orphan_age)`},
		{"bad duration", "maintenance:\n  interval: often\n" + s3Pipelines,
			`bad.yaml:2: maintenance.interval: expected a duration like 10s, got "often"`},
		{"negative interval", "maintenance:\n  interval: -5s\n" + s3Pipelines,
			`bad.yaml:2: maintenance.interval: must not be negative (0 turns scheduled maintenance off), got -5s`},
		{"bad size", "maintenance: {target_file_size: big}\n" + s3Pipelines,
			`bad.yaml:1: maintenance.target_file_size: expected a size like 128MiB or a number of bytes, got "big"`},
		{"tiny target", "maintenance:\n  target_file_size: 1000\n" + s3Pipelines,
			`bad.yaml:2: maintenance.target_file_size: must be at least 1MiB, got 1000 bytes`},
		{"negative retention", "maintenance:\n  snapshot_retention: -1h\n" + s3Pipelines,
			`bad.yaml:2: maintenance.snapshot_retention: must not be negative, got -1h0m0s`},
		{"no snapshots", "maintenance:\n  min_snapshots: 0\n" + s3Pipelines,
			`bad.yaml:2: maintenance.min_snapshots: must be at least 1 (the current snapshot is always kept), got 0`},
		{"orphan age", "maintenance:\n  orphan_age: 10ms\n" + s3Pipelines,
			`bad.yaml:2: maintenance.orphan_age: must be at least 1s (files younger than this may belong to a commit in progress), got 10ms`},
	})
}
