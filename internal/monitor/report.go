package monitor

import "time"

// Report is what the watcher saw at its last sample: the JSON of GET /api/v1/monitor and `bigfather status`.
type Report struct {
	At time.Time `json:"at"`
	// Interval and Window are the sampling settings the statuses were judged with.
	IntervalSeconds float64 `json:"interval_seconds"`
	Window          int     `json:"window"`
	// Checks are the readiness checks (kafka, catalog, warehouse, pipelines), as /readyz answers them.
	Checks    []Check          `json:"checks"`
	Pipelines []PipelineReport `json:"pipelines"`
	Groups    []GroupReport    `json:"groups"`
	Kafka     KafkaReport      `json:"kafka"`
}

// Check is one readiness check.
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Message says what failed (empty when OK).
	Message string `json:"message,omitempty"`
}

// PipelineReport is one pipeline's state.
type PipelineReport struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Lag is the sum of its partitions' lag; LagSeconds the largest.
	Lag        int64   `json:"lag"`
	LagSeconds float64 `json:"lag_seconds"`
	// Processes are the processes that ran it within the last three samples; Failing and Paused say whether
	// one of them reports so, Detail why.
	Processes  int               `json:"processes"`
	Failing    bool              `json:"failing"`
	Paused     bool              `json:"paused"`
	Detail     string            `json:"detail,omitempty"`
	Partitions []PartitionReport `json:"partitions"`
	Tables     []TableReport     `json:"tables"`
	// Probe is the probe records' state, for a pipeline with pipelines[].probe set.
	Probe *ProbeReport `json:"probe,omitempty"`
	// Error is set when the pipeline could not be sampled (its table or the broker unreadable).
	Error string `json:"error,omitempty"`
}

// PartitionReport is one partition of a pipeline or consumer group.
type PartitionReport struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Status    Status `json:"status"`
	// Committed is the next offset committed (-1: none); End the high watermark.
	Committed  int64   `json:"committed"`
	End        int64   `json:"end"`
	Lag        int64   `json:"lag"`
	LagSeconds float64 `json:"lag_seconds"`
}

// TableReport is one table of a pipeline.
type TableReport struct {
	Name string `json:"name"`
	// LastCommit is when the pipeline's newest staging commit to the table landed (zero: none in its history).
	LastCommit time.Time `json:"last_commit,omitzero"`
	// FreshnessSeconds is how far behind the table is: 0 while the pipeline holds every record of its topics
	// (lag 0), else the seconds since LastCommit (the oldest waiting record's age when nothing was committed).
	FreshnessSeconds float64 `json:"freshness_seconds"`
	// NewestEvent is the newest event time committed; EventAgeSeconds its age.
	NewestEvent     time.Time `json:"newest_event,omitzero"`
	EventAgeSeconds float64   `json:"event_age_seconds"`
	// Snapshots and DataFiles count the table's current metadata; SmallFiles are data files under 3/4 of
	// maintenance.target_file_size; LastMaintenance is the newest snapshot maintenance made.
	Snapshots       int       `json:"snapshots"`
	DataFiles       int       `json:"data_files"`
	SmallFiles      int       `json:"small_files"`
	LastMaintenance time.Time `json:"last_maintenance,omitzero"`
	Error           string    `json:"error,omitempty"`
}

// GroupReport is a consumer group on the cluster that is not one of the pipelines'.
type GroupReport struct {
	Group      string            `json:"group"`
	State      string            `json:"state"`
	Members    int               `json:"members"`
	Status     Status            `json:"status"`
	Lag        int64             `json:"lag"`
	LagSeconds float64           `json:"lag_seconds"`
	Partitions []PartitionReport `json:"partitions"`
	Error      string            `json:"error,omitempty"`
}

// KafkaReport is the cluster's state.
type KafkaReport struct {
	Brokers []BrokerReport `json:"brokers"`
	Topics  int            `json:"topics"`
	// Partitions counts every partition; UnderReplicated those with fewer in-sync replicas than replicas,
	// Offline those without a leader.
	Partitions      int    `json:"partitions"`
	UnderReplicated int    `json:"under_replicated"`
	Offline         int    `json:"offline"`
	Error           string `json:"error,omitempty"`
}

// BrokerReport is one broker.
type BrokerReport struct {
	ID        int32  `json:"id"`
	Address   string `json:"address"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
}
