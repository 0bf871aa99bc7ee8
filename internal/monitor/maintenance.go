package monitor

import "github.com/prometheus/client_golang/prometheus"

// MaintenanceMetrics are table maintenance's collectors (internal/maintain), per table. A table label is one
// of the tables the config's pipelines write, so its values are bounded.
type MaintenanceMetrics struct {
	DataFiles      *prometheus.GaugeVec   // table
	SmallFiles     *prometheus.GaugeVec   // table
	Snapshots      *prometheus.GaugeVec   // table
	FilesRewritten *prometheus.CounterVec // table
	BytesRemoved   *prometheus.CounterVec // table
	Runs           *prometheus.CounterVec // table, result
	LastRun        *prometheus.GaugeVec   // table
}

// NewMaintenanceMetrics creates table maintenance's collectors and registers them on reg.
func NewMaintenanceMetrics(reg prometheus.Registerer) *MaintenanceMetrics {
	m := &MaintenanceMetrics{
		DataFiles: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_table_data_files", Help: "Live data files of a table, after the last maintenance run.",
		}, []string{"table"}),
		SmallFiles: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_table_small_files", Help: "Live data files under 3/4 of maintenance.target_file_size, after the last maintenance run.",
		}, []string{"table"}),
		Snapshots: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_table_snapshots", Help: "Snapshots in a table's history, after the last maintenance run.",
		}, []string{"table"}),
		FilesRewritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_maintenance_files_rewritten_total", Help: "Small data files replaced by compaction.",
		}, []string{"table"}),
		BytesRemoved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_maintenance_removed_bytes_total", Help: "Bytes of orphan files deleted (crashed batches, files of expired snapshots, old metadata).",
		}, []string{"table"}),
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_maintenance_runs_total", Help: "Maintenance runs per table by result (ok, yielded: compaction gave way to staging, error).",
		}, []string{"table", "result"}),
		LastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_maintenance_last_run_timestamp_seconds", Help: "When the last maintenance run of a table ended (Unix time), whatever its result.",
		}, []string{"table"}),
	}
	reg.MustRegister(m.DataFiles, m.SmallFiles, m.Snapshots, m.FilesRewritten, m.BytesRemoved, m.Runs, m.LastRun)
	return m
}
