// Package monitor holds Big Father's Prometheus metrics.
package monitor

import (
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
}

// NewMetrics creates and registers the collectors, plus the Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
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
	}
	m.Registry.MustRegister(m.RecordsConsumed, m.RowsCommitted, m.RowsRejected, m.Commits, m.CommitDuration,
		m.ConsumerLag, m.BatchesDiscarded, m.RowsFiltered, m.Duplicates, m.DedupIDs, m.SequenceGaps, m.OutOfOrder,
		m.MissingRecords, m.Paused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
