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
	LagSeconds       *prometheus.GaugeVec     // pipeline, topic, partition
	PartitionStatus  *prometheus.GaugeVec     // pipeline, topic, partition, status
	PipelineStatus   *prometheus.GaugeVec     // pipeline, status
	GroupStatus      *prometheus.GaugeVec     // group, status
	GroupLag         *prometheus.GaugeVec     // group
	GroupLagSeconds  *prometheus.GaugeVec     // group
	TableFreshness   *prometheus.GaugeVec     // table
	TableEventAge    *prometheus.GaugeVec     // table
	ReadyCheck       *prometheus.GaugeVec     // check
	KafkaBrokers     *prometheus.GaugeVec     // state
	KafkaTopics      prometheus.Gauge
	KafkaPartitions  prometheus.Gauge
	KafkaUnderRepl   prometheus.Gauge
	KafkaOffline     prometheus.Gauge
	HTTPRequests     *prometheus.CounterVec   // handler, method, code
	HTTPDuration     *prometheus.HistogramVec // handler
	ProbeRecords     *prometheus.CounterVec   // pipeline
	ProbeLatency     *prometheus.HistogramVec // pipeline
	ProbePending     *prometheus.GaugeVec     // pipeline
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
			Name: "bigfather_consumer_lag_records", Help: "High watermark minus the next offset the pipeline's main table stores, per partition.",
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
	m.LagSeconds = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_consumer_lag_seconds", Help: "Age of the oldest record of a partition that the pipeline's main table does not hold yet (0: none waiting).",
	}, []string{"pipeline", "topic", "partition"})
	m.PartitionStatus = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_partition_status", Help: "1 for a pipeline partition's current status (OK, WARN, STALL, STOP, ERR, REWIND, PAUSED), 0 for the others.",
	}, []string{"pipeline", "topic", "partition", "status"})
	m.PipelineStatus = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_pipeline_status", Help: "1 for a pipeline's current status (the worst of its partitions'), 0 for the others.",
	}, []string{"pipeline", "status"})
	m.GroupStatus = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_group_status", Help: "1 for a consumer group's current status (the worst of its partitions'), 0 for the others; groups of the pipelines excluded.",
	}, []string{"group", "status"})
	m.GroupLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_group_lag_records", Help: "A consumer group's lag summed over its partitions: high watermark minus committed offset.",
	}, []string{"group"})
	m.GroupLagSeconds = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_group_lag_seconds", Help: "Age of the oldest record a consumer group has not committed, over its partitions.",
	}, []string{"group"})
	m.TableFreshness = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_table_freshness_seconds", Help: "How far a table is behind: 0 while its pipeline holds every record of its topics, else seconds since its last staging commit.",
	}, []string{"table"})
	m.TableEventAge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_table_event_age_seconds", Help: "Seconds since the newest event time committed to a table.",
	}, []string{"table"})
	m.ReadyCheck = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_ready_check", Help: "1 while a readiness check passes (kafka, catalog, warehouse, pipelines), 0 while it fails.",
	}, []string{"check"})
	m.KafkaBrokers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_kafka_brokers", Help: "Brokers in the cluster's metadata, by state (reachable, unreachable).",
	}, []string{"state"})
	m.KafkaTopics = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "bigfather_kafka_topics", Help: "Topics in the cluster.",
	})
	m.KafkaPartitions = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "bigfather_kafka_partitions", Help: "Partitions in the cluster.",
	})
	m.KafkaUnderRepl = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "bigfather_kafka_partitions_under_replicated", Help: "Partitions with fewer in-sync replicas than replicas.",
	})
	m.KafkaOffline = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "bigfather_kafka_partitions_offline", Help: "Partitions without a leader.",
	})
	m.HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bigfather_http_requests_total", Help: "HTTP requests served, by handler (ui, api, registry, metrics, health, other), method and status code.",
	}, []string{"handler", "method", "code"})
	m.HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "bigfather_http_request_duration_seconds", Help: "Time to serve an HTTP request, by handler.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}, []string{"handler"})
	m.ProbeRecords = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bigfather_probe_records_total", Help: "Monitor probe records a pipeline consumed: their offsets are committed, they become no row.",
	}, []string{"pipeline"})
	m.ProbeLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "bigfather_probe_latency_seconds", Help: "Time from producing a probe record to the first commit of the pipeline's main table that covers its offset.",
		Buckets: latencyBuckets(o.FreshnessSLO),
	}, []string{"pipeline"})
	m.ProbePending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bigfather_probe_pending_seconds", Help: "Age of the oldest probe record the pipeline's main table does not cover yet (0: none).",
	}, []string{"pipeline"})
	m.Registry.MustRegister(m.ProbeRecords, m.ProbeLatency, m.ProbePending)
	m.Registry.MustRegister(m.LagSeconds, m.PartitionStatus, m.PipelineStatus, m.GroupStatus, m.GroupLag,
		m.GroupLagSeconds, m.TableFreshness, m.TableEventAge, m.ReadyCheck, m.KafkaBrokers, m.KafkaTopics,
		m.KafkaPartitions, m.KafkaUnderRepl, m.KafkaOffline, m.HTTPRequests, m.HTTPDuration)
	m.Registry.MustRegister(m.ConsumedBytes, m.CommittedBytes, m.CommitFiles, m.FileSize, m.BufferedRows,
		m.BufferedBytes, m.Rebalances, m.LastCommit, m.NewestEvent, m.EndToEnd)
	m.Registry.MustRegister(m.RecordsConsumed, m.RowsCommitted, m.RowsRejected, m.Commits, m.CommitDuration,
		m.ConsumerLag, m.BatchesDiscarded, m.RowsFiltered, m.Duplicates, m.DedupIDs, m.SequenceGaps, m.OutOfOrder,
		m.MissingRecords, m.Paused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
