// Package monitor is Big Father's monitoring: the Prometheus metrics every process exports, the status rules
// (status.go), the sampler that judges pipelines, consumer groups and the infrastructure (watch.go), readiness,
// and the history behind the console's charts.
package monitor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the staging pipeline's Prometheus collectors, registered on their own registry (no globals).
type Metrics struct {
	Registry         *prometheus.Registry
	RecordsConsumed  *prometheus.CounterVec   // pipeline
	RowsCommitted    *prometheus.CounterVec   // pipeline, table
	RowsRejected     *prometheus.CounterVec   // pipeline, reason
	Commits          *prometheus.CounterVec   // pipeline, table, result
	CommitDuration   *prometheus.HistogramVec // pipeline, table
	ConsumerLag      *prometheus.GaugeVec     // pipeline, topic, partition
	BatchesDiscarded *prometheus.CounterVec   // pipeline, cause
	RowsFiltered     *prometheus.CounterVec   // pipeline, rule
	Duplicates       *prometheus.CounterVec   // pipeline
	DedupIDs         *prometheus.GaugeVec     // pipeline
	SequenceGaps     *prometheus.CounterVec   // pipeline
	OutOfOrder       *prometheus.CounterVec   // pipeline
	MissingRecords   *prometheus.GaugeVec     // pipeline
	Paused           *prometheus.GaugeVec     // pipeline
	ConsumedBytes    *prometheus.CounterVec   // pipeline
	CommittedBytes   *prometheus.CounterVec   // pipeline, table
	CommitFiles      *prometheus.HistogramVec // pipeline, table
	FileSize         *prometheus.HistogramVec // pipeline, table
	BufferedRows     *prometheus.GaugeVec     // pipeline
	BufferedBytes    *prometheus.GaugeVec     // pipeline
	Rebalances       *prometheus.CounterVec   // pipeline, event
	LastCommit       *prometheus.GaugeVec     // table
	NewestEvent      *prometheus.GaugeVec     // table
	// EndToEnd is the time from a record's Kafka timestamp to the commit that made it visible, per pipeline.
	EndToEnd *LatencyHistogram
	// FreshnessSLO is monitor.freshness_slo: EndToEnd has a bucket edge there.
	FreshnessSLO time.Duration
}

// MetricsOptions are the settings of NewMetricsWith.
type MetricsOptions struct {
	// FreshnessSLO is monitor.freshness_slo; the end-to-end latency histogram gets a bucket edge there
	// (default 5m).
	FreshnessSLO time.Duration
}

// NewMetrics creates and registers the collectors with the default options.
func NewMetrics() *Metrics { return NewMetricsWith(MetricsOptions{}) }

// NewMetricsWith creates and registers the collectors, plus the Go runtime and process collectors.
func NewMetricsWith(o MetricsOptions) *Metrics {
	if o.FreshnessSLO <= 0 {
		o.FreshnessSLO = 5 * time.Minute
	}
	m := &Metrics{
		FreshnessSLO: o.FreshnessSLO,
		Registry:     prometheus.NewRegistry(),
		RecordsConsumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_records_consumed_total", Help: "Kafka records consumed by a pipeline (replays after a restart count again).",
		}, []string{"pipeline"}),
		RowsCommitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_rows_committed_total", Help: "Rows committed to an Iceberg table.",
		}, []string{"pipeline", "table"}),
		RowsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_rows_rejected_total", Help: "Records routed to the rejected table, by reason code.",
		}, []string{"pipeline", "reason"}),
		Commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_commits_total", Help: "Table commits by result (ok, conflict, fenced, error).",
		}, []string{"pipeline", "table", "result"}),
		CommitDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bigfather_commit_duration_seconds", Help: "Time to write data files and commit them to a table.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"pipeline", "table"}),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_consumer_lag_records", Help: "High watermark minus the next offset to consume, per partition.",
		}, []string{"pipeline", "topic", "partition"}),
		BatchesDiscarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_batches_discarded_total", Help: "Buffered batches dropped and re-consumed (fenced by another worker, partitions lost).",
		}, []string{"pipeline", "cause"}),
		RowsFiltered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_rows_filtered_total", Help: "Records dropped by a filter rule.",
		}, []string{"pipeline", "rule"}),
		Duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_duplicates_dropped_total", Help: "Source duplicates dropped by dedup (same event id at another position).",
		}, []string{"pipeline"}),
		DedupIDs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_dedup_ids", Help: "Event ids held by the dedup index (the window).",
		}, []string{"pipeline"}),
		SequenceGaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_sequence_gaps_total", Help: "Holes opened in per-producer sequence numbers.",
		}, []string{"pipeline"}),
		OutOfOrder: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_out_of_order_total", Help: "Records that arrived after a later sequence number of their producer.",
		}, []string{"pipeline"}),
		MissingRecords: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_missing_records", Help: "Sequence numbers currently missing (open holes), as seen by this process.",
		}, []string{"pipeline"}),
		Paused: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_pipeline_paused", Help: "1 while the pipeline is paused at a rejected record (on_reject: pause).",
		}, []string{"pipeline"}),
		ConsumedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_consumed_bytes_total", Help: "Bytes of Kafka record keys and values consumed by a pipeline.",
		}, []string{"pipeline"}),
		CommittedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_committed_bytes_total", Help: "Bytes of Parquet data files committed to an Iceberg table.",
		}, []string{"pipeline", "table"}),
		CommitFiles: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bigfather_commit_files", Help: "Data files added by one successful commit that added rows.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
		}, []string{"pipeline", "table"}),
		FileSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bigfather_data_file_size_bytes", Help: "Size of each committed Parquet data file.",
			Buckets: prometheus.ExponentialBuckets(64<<10, 4, 8), // 64 KiB to 1 GiB
		}, []string{"pipeline", "table"}),
		BufferedRows: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_buffered_rows", Help: "Rows placed in the pipeline's current batch, not yet handed to the committer.",
		}, []string{"pipeline"}),
		BufferedBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_buffered_bytes", Help: "Record bytes placed in the pipeline's current batch, not yet handed to the committer.",
		}, []string{"pipeline"}),
		Rebalances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigfather_rebalances_total", Help: "Consumer-group partition changes seen by a pipeline's workers, by event (assigned, revoked, lost).",
		}, []string{"pipeline", "event"}),
		LastCommit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_table_last_commit_timestamp_seconds", Help: "When this process last committed rows or offsets to a table (Unix time).",
		}, []string{"table"}),
		NewestEvent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bigfather_table_newest_event_timestamp_seconds", Help: "The newest event time this process committed to a table (Unix time).",
		}, []string{"table"}),
		EndToEnd: NewLatencyHistogram("bigfather_end_to_end_latency_seconds",
			"Time from a record's Kafka timestamp to the commit that made it visible in the pipeline's main table.",
			"pipeline", latencyBuckets(o.FreshnessSLO)),
	}
	m.Registry.MustRegister(m.ConsumedBytes, m.CommittedBytes, m.CommitFiles, m.FileSize, m.BufferedRows,
		m.BufferedBytes, m.Rebalances, m.LastCommit, m.NewestEvent, m.EndToEnd)
	m.Registry.MustRegister(m.RecordsConsumed, m.RowsCommitted, m.RowsRejected, m.Commits, m.CommitDuration,
		m.ConsumerLag, m.BatchesDiscarded, m.RowsFiltered, m.Duplicates, m.DedupIDs, m.SequenceGaps, m.OutOfOrder,
		m.MissingRecords, m.Paused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
