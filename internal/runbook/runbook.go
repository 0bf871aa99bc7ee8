// Package runbook holds Big Father's runbooks: for each pipeline status and each built-in alert, what it means,
// how to confirm it and what to do. They are plain data, so alert bodies link to them by id, the console shows
// them at /ui/runbooks/{id}, and docs/runbooks.md is generated from them (see Markdown).
//
// Text fields use Markdown inline code (`...`) for commands, metrics and keys. Placeholders are in capitals:
// NAME is the pipeline, TOPIC, PARTITION and OFFSET a Kafka position, TABLE a namespace.table, GROUP a consumer
// group, HOST the process's http address, BROKER a Kafka broker, F the config file.
package runbook

import (
	"fmt"
	"strings"
)

// Runbook says what a status or an alert means, how to confirm it and what to do about it.
type Runbook struct {
	// ID identifies the runbook in links (/ui/runbooks/ID, docs/runbooks.md#ID) and in alert rules
	// (yaml: alerts.rules[].runbook). It matches [a-z][a-z0-9-]*.
	ID string `json:"id"`
	// Title is a one-line heading.
	Title string `json:"title"`
	// Status is the status (WARN, STALL, STOP, ERR, REWIND, PAUSED) the runbook explains, "" for the others.
	Status string `json:"status,omitempty"`
	// Meaning says what is going on and what it costs if left alone.
	Meaning string `json:"meaning"`
	// Confirm lists ways to check it: console pages, commands, metrics and PromQL.
	Confirm []string `json:"confirm"`
	// Actions are the steps to take, in order.
	Actions []string `json:"actions"`
}

// All returns every runbook: the statuses first, worst first, then the other built-in alerts'. The slice is
// new on every call; changing it changes nothing here.
func All() []Runbook {
	out := make([]Runbook, len(runbooks))
	for i, r := range runbooks {
		r.Confirm = append([]string(nil), r.Confirm...)
		r.Actions = append([]string(nil), r.Actions...)
		out[i] = r
	}
	return out
}

// Get returns the runbook with id, and whether there is one.
func Get(id string) (Runbook, bool) {
	for _, r := range All() {
		if r.ID == id {
			return r, true
		}
	}
	return Runbook{}, false
}

// IDs returns the ids of every runbook, in the order of All.
func IDs() []string {
	ids := make([]string, len(runbooks))
	for i, r := range runbooks {
		ids[i] = r.ID
	}
	return ids
}

// Markdown renders every runbook as one Markdown document, each under a heading with an anchor named by its id
// (docs/runbooks.md is this output).
func Markdown() []byte {
	var b strings.Builder
	b.WriteString("# Runbooks\n\n")
	b.WriteString("<!-- Generated from internal/runbook by `go test ./internal/runbook -update`; edit the Go data, not this file. -->\n\n")
	b.WriteString("What each pipeline status and each built-in alert means, how to confirm it and what to do. Alert\n")
	b.WriteString("notifications link here through the console (`/ui/runbooks/ID`). Placeholders are in capitals: NAME is the\n")
	b.WriteString("pipeline, TOPIC, PARTITION and OFFSET a Kafka position, TABLE a `namespace.table`, GROUP a consumer group, HOST\n")
	b.WriteString("the process's `http` address, BROKER a Kafka broker, F the config file.\n\n")
	for _, r := range runbooks {
		fmt.Fprintf(&b, "- [%s](#%s)\n", r.Title, r.ID)
	}
	for _, r := range runbooks {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n\n## %s\n\n", r.ID, r.Title)
		if r.Status != "" {
			fmt.Fprintf(&b, "Status `%s`. ", r.Status)
		}
		b.WriteString(r.Meaning + "\n\n**Confirm it**\n\n")
		for _, c := range r.Confirm {
			b.WriteString("- " + c + "\n")
		}
		b.WriteString("\n**What to do**\n\n")
		for i, a := range r.Actions {
			fmt.Fprintf(&b, "%d. %s\n", i+1, a)
		}
	}
	return []byte(b.String())
}

// window is how the runbooks name the span the status rules judge.
const window = "a whole window (`monitor.interval` × `monitor.window`, 100 s with the defaults)"

var runbooks = []Runbook{
	{
		ID:     "err",
		Title:  "ERR: the pipeline's commits keep failing",
		Status: "ERR",
		Meaning: "Every commit attempt of the pipeline failed for " + window + ". It may still read from Kafka, but " +
			"nothing reaches its tables: the tables' freshness grows and so does the lag. Nothing is lost while Kafka " +
			"keeps the records (the tables, not Kafka, hold the consumed offsets), but records older than the topic's " +
			"retention are deleted unstaged.",
		Confirm: []string{
			"`curl -s http://HOST/readyz` answers 503; `pipelines.NAME` shows `\"state\":\"failing\"` with `last_error` and `error_since`, and `error` names the failing store when a store check fails.",
			"The process log repeats `staging failed; restarting the consumer from the tables' offsets` with `err=...` (the cause) and `retry_in=...` (the backoff, 1 s doubling to 30 s).",
			"PromQL: `increase(bigfather_commits_total{pipeline=\"NAME\",result=\"error\"}[5m]) > 0` while `increase(bigfather_commits_total{pipeline=\"NAME\",result=\"ok\"}[5m]) == 0`.",
			"`bigfather status --config F` and the console's Pipelines page (`/ui/pipelines/NAME`) show the pipeline ERR; its recent commits stop.",
		},
		Actions: []string{
			"Read the `err` of the last `staging failed` line (or `last_error` in /readyz): it names the catalog, the warehouse or the table.",
			"Catalog: for `sqlite://`, check the file exists and is the same file (a deleted or replaced SQLite catalog is never written again: restore it, then restart the process, which exits 1 when stopped in that state); for `postgres://`, check the server answers with the same URI (`psql`), password and database; for a REST catalog, check the server, `catalog.token` or `catalog.credential`.",
			"Warehouse: for a local path, check free space (`df -h` on the warehouse directory) and permissions; for `s3://`, check the endpoint answers, the bucket exists and the credentials are valid (`aws s3 ls s3://BUCKET/PREFIX/ --endpoint-url ENDPOINT`).",
			"An error naming the table's owner (`bigfather.owner`) means another pipeline of another config claims the table: rename one table, or set `table.shared: true` in both configs.",
			"Once the store answers again, staging resumes by itself (no restart, except for a replaced SQLite catalog) from the offsets the tables hold, losing and duplicating nothing. Confirm `bigfather_commits_total{result=\"ok\"}` rises again and the lag falls.",
			"If the error is none of these, keep the log lines around the first failure and restart the process; it resumes from the tables' offsets.",
		},
	},
	{
		ID:     "stop",
		Title:  "STOP: nothing consumes the pipeline's partitions",
		Status: "STOP",
		Meaning: "Records waited at every sample of " + window + ", the offsets the tables store never moved, and no " +
			"process read anything: no `bigfather stage` (or `up`) process is consuming these partitions. The lag grows " +
			"by the producers' whole rate; records older than the topic's retention will be deleted unstaged.",
		Confirm: []string{
			"The console's Pipelines page (`/ui/pipelines/NAME`): partitions without an owner, next offsets not moving while end offsets grow.",
			"`kafka-consumer-groups.sh --bootstrap-server BROKER --describe --group bigfather-NAME` (or the pipeline's `group`) says the group has no active members.",
			"PromQL: `increase(bigfather_records_consumed_total{pipeline=\"NAME\"}[5m]) == 0` and, from your Prometheus, `up{job=\"bigfather\"} == 0` for the stage processes.",
			"`bigfather status --config F` shows the pipeline STOP.",
		},
		Actions: []string{
			"Check that the stage processes run (systemd, Kubernetes) and start them: `bigfather stage --config F` (each with a stable `--instance-id`). They resume from the offsets the tables store.",
			"If they run, check that they run this pipeline (no `--pipeline OTHER`) and read their log: `fetch error` lines mean the brokers are unreachable (`kcat -b BROKER -L` from the same machine); a process that exited with `fenced` had a second process with the same `--instance-id`.",
			"Check the topic's partitions have leaders (see the `kafka-partitions-offline` runbook).",
			"When every process is down, the alerts evaluated inside them are silent too: run the alerts in a process that stays up (a `bigfather console --config F`), or alert through Prometheus with the rules of `bigfather alerts rules` plus an `up == 0` rule.",
			"Watch the lag fall: `sum by (pipeline) (bigfather_consumer_lag_records{pipeline=\"NAME\"})`.",
		},
	},
	{
		ID:     "stall",
		Title:  "STALL: the pipeline runs but its offsets do not move",
		Status: "STALL",
		Meaning: "The pipeline is alive (it reads records or tries to commit), but either its last commit attempt failed, or " +
			"for " + window + " records waited and no commit moved the offsets its tables store. Typical causes: " +
			"commits failing now and then (ERR when they fail for a whole window), batches dropped and re-read over and " +
			"over (fenced by another worker, partitions lost in rebalances), or commits slower than the window.",
		Confirm: []string{
			"`curl -s http://HOST/readyz`: a failing store is named in `error`; `pipelines.NAME.last_error` holds the last commit error.",
			"PromQL, by result: `sum by (result) (increase(bigfather_commits_total{pipeline=\"NAME\"}[5m]))` (error, conflict, fenced against ok) and `increase(bigfather_batches_discarded_total{pipeline=\"NAME\"}[5m])` by cause.",
			"Commit time: `histogram_quantile(0.99, sum by (le) (rate(bigfather_commit_duration_seconds_bucket{pipeline=\"NAME\"}[5m])))`.",
			"The process log: `staging failed`, `batch dropped; re-reading from the tables' offsets`, `partitions lost; dropped the buffered batch`, and `partitions assigned` / `partitions revoked after committing` repeating (a rebalance loop).",
			"The console's Pipelines page (`/ui/pipelines/NAME`): next offsets flat while end offsets grow; the commit-time chart; the recent commits.",
		},
		Actions: []string{
			"If /readyz names a store or commits fail with `result=\"error\"`, follow the `err` runbook.",
			"If batches are dropped as `fenced` or partitions keep moving, look for a rebalance loop: processes restarting (crash loops, OOM kills), or commits longer than the group session. Raise `--session-timeout` above the longest commit, and give each process a stable `--instance-id`.",
			"If commits are slow, find the slow store: S3 or catalog latency, a full disk. Smaller batches (`commit.max_rows`, `commit.max_bytes`) commit sooner.",
			"Many `conflict` results mean many writers on one table (`table.shared` configs, other engines): conflicts are retried, but each costs a reload; reduce the writers.",
			"As a last resort restart the process: it resumes from the offsets the tables store, losing and duplicating nothing.",
		},
	},
	{
		ID:     "rewind",
		Title:  "REWIND: a stored offset moved back",
		Status: "REWIND",
		Meaning: "Within the window, the committed offset of a partition decreased. For a pipeline that is the offset its main " +
			"table stores (table property `bigfather.offset.NAME.TOPIC.PARTITION`); Big Father never moves it back " +
			"itself, so someone changed the table: restored the catalog from a backup, rolled the table back, dropped " +
			"and recreated it, or edited its properties. The pipeline now reads the records after that offset again. " +
			"When rows and offsets went back together (a restore, a rollback of the metadata) this is exactly once and " +
			"only costs time; when only the offsets went back, rows already in the table are staged a second time. For " +
			"a consumer group, someone reset its offsets (`kafka-consumer-groups.sh --reset-offsets`). The status " +
			"clears by itself one window later.",
		Confirm: []string{
			"The console's Tables page (`/ui/tables/TABLE`): the snapshot history with the Kafka offsets each commit stored; a snapshot older than the ones before it at the top, or a short history, shows a rollback or a recreated table.",
			"Rows staged twice from the same position: `bigfather sql --config F \"select _topic, _partition, _offset, count(*) from TABLE group by 1, 2, 3 having count(*) > 1 limit 20\"`.",
			"Highest staged offset against the stored one: `bigfather sql --config F \"select _partition, max(_offset) + 1 from TABLE group by 1\"`.",
			"For a consumer group: `kafka-consumer-groups.sh --bootstrap-server BROKER --describe --group GROUP`.",
		},
		Actions: []string{
			"Find who changed the table: catalog restores, jobs of other engines on the same catalog (Spark's `rollback_to_snapshot`, `ALTER TABLE ... SET TBLPROPERTIES`), a table dropped and recreated. For a consumer group, ask its owner.",
			"If rows and offsets went back together, let the pipeline catch up; watch the lag fall.",
			"If the duplicate query finds rows, only the offsets went back: stop the pipeline's processes, set the table property back to the offset the snapshot history shows, and delete the duplicated rows with an engine that writes Iceberg (Spark, Trino), then start the processes again.",
			"Resetting the Kafka group `bigfather-NAME` never rewinds a pipeline: Big Father reads from the offsets its tables store and commits the group's offsets only so that lag tools see progress (the next commit overwrites them).",
		},
	},
	{
		ID:     "paused",
		Title:  "PAUSED: the pipeline is paused",
		Status: "PAUSED",
		Meaning: "The pipeline stages nothing until someone resumes it, either because it met a rejected record under " +
			"`on_reject: {policy: pause}` (everything before that record is committed; the record and everything after " +
			"it wait) or because an operator paused it (the console's Pause button or " +
			"`POST /api/v1/pipelines/NAME/pause`: it committed what it had buffered and keeps its partitions). The lag " +
			"grows while it is paused.",
		Confirm: []string{
			"`curl -s http://HOST/healthz`: `pipelines.NAME` is `\"state\":\"paused\"`; after a rejected record, `last_error` reads `record TOPIC/PARTITION@OFFSET rejected: CODE: REASON`.",
			"`bigfather_pipeline_paused{pipeline=\"NAME\"} == 1`.",
			"The process log: `pipeline paused at a rejected record (on_reject: pause)` with `topic`, `partition`, `offset`, `reason_code` and `reason`, or `pipeline paused by an operator`.",
			"Read the blocking record: `kcat -b BROKER -C -t TOPIC -p PARTITION -o OFFSET -c 1 -e`.",
			"Who paused it: the console's Audit log (`/ui/audit`, admins) lists every pause and resume with the user.",
		},
		Actions: []string{
			"Paused by an operator: ask them (the audit log names them), then resume: the console's Resume button, or `curl -X POST -H \"Authorization: Bearer $TOKEN\" http://HOST/api/v1/pipelines/NAME/resume`.",
			"Paused at a rejected record: read the reason. If the record is valid and the definition or config is wrong, fix it and restart the process; it reads the record again with the fix.",
			"To read the record again in the running process (when what rejected it has changed, a lookup file say): `curl -X POST -H \"Authorization: Bearer $TOKEN\" 'http://HOST/api/v1/pipelines/NAME/resume?action=retry'`; it pauses again if the record is still rejected.",
			"If the record is garbage, drop that one record and go on: `...resume?action=skip`. It lands in no table; note its position (topic, partition, offset) for the record.",
			"Pause and resume act on the workers of the process that serves the request: in a fleet, resume in the process that owns the partition (the console's pipeline page names the owner), or in every process an operator paused.",
			"If pausing on every bad record costs more than it protects, use `on_reject: {policy: dlq}`: bad records go to `TABLE_rejected` (and an optional `dlq_topic`) and the pipeline keeps flowing.",
		},
	},
	{
		ID:     "warn",
		Title:  "WARN: the pipeline falls behind",
		Status: "WARN",
		Meaning: "The pipeline commits, but its lag grew over " + window + ": it consumes more slowly than the producers " +
			"produce. Nothing is wrong yet, but the tables get staler, and once the lag reaches the topic's retention " +
			"Kafka deletes records before they are staged.",
		Confirm: []string{
			"The console's Pipelines page (`/ui/pipelines/NAME`): the records/s and lag charts of the last hour.",
			"PromQL: `sum by (pipeline) (bigfather_consumer_lag_records{pipeline=\"NAME\"})` rising while `sum by (pipeline) (rate(bigfather_records_consumed_total{pipeline=\"NAME\"}[5m]))` is flat.",
			"How far behind in time: `max by (pipeline) (bigfather_consumer_lag_seconds{pipeline=\"NAME\"})`, against the topic's `retention.ms` (`kafka-configs.sh --bootstrap-server BROKER --describe --topic TOPIC --all`).",
			"CPU of the stage processes, and commit time: `histogram_quantile(0.99, sum by (le) (rate(bigfather_commit_duration_seconds_bucket{pipeline=\"NAME\"}[5m])))`.",
		},
		Actions: []string{
			"A burst (a producer catching up, a replay) drains by itself; watch the lag turn.",
			"Scale out: start more `bigfather stage --config F --pipeline NAME` processes, each with a stable `--instance-id`; they share the partitions through the consumer group (one process per partition at most does work).",
			"If every partition already has its own process, add partitions to the topic; Big Father picks them up within 15 s.",
			"If commits are slow, find the slow store (S3, catalog); if the processes are CPU-bound, give them more cores (the checks run on one goroutine per core).",
			"If the lag in seconds approaches the topic's retention, act now: extend the retention (`kafka-configs.sh --alter --add-config retention.ms=...`) while you scale.",
		},
	},
	{
		ID:    "consumer-group",
		Title: "A consumer group on the cluster stopped",
		Meaning: "A consumer group that is not one of Big Father's pipelines (monitored because `monitor.groups` is true) has " +
			"records waiting but its committed offsets did not move over " + window + ". Big Father sees only its committed " +
			"and end offsets, so this is STOP for a group (a consumer that commits rarely looks the same). Its owner's " +
			"service is down or stuck, or the group is abandoned.",
		Confirm: []string{
			"The console's Topics page (`/ui/topics`): the consumer groups list with their lag.",
			"`kafka-consumer-groups.sh --bootstrap-server BROKER --describe --group GROUP --members` (active members) and `--describe --group GROUP` (lag per partition).",
			"PromQL: `bigfather_group_lag_records{group=\"GROUP\"}` and `bigfather_group_lag_seconds{group=\"GROUP\"}`.",
		},
		Actions: []string{
			"Tell the group's owner; the fix is in their consumer.",
			"If the group is abandoned, delete it once its owner agrees: `kafka-consumer-groups.sh --bootstrap-server BROKER --delete --group GROUP`.",
			"To stop watching other teams' groups altogether, set `monitor.groups: false`; to silence this alert only, set `alerts.builtin: false` and configure the rules you want.",
		},
	},
	{
		ID:    "table-not-fresh",
		Title: "A table is not fresh",
		Meaning: "A table's freshness passed `monitor.freshness_slo` (5m by default). Freshness is 0 while the table's " +
			"pipeline holds every record of its topics, and otherwise the time since the pipeline's last commit to the " +
			"table: records are waiting that the table has not received for longer than the objective, so whoever reads " +
			"it sees data that old. An idle topic never makes a table stale.",
		Confirm: []string{
			"`bigfather_table_freshness_seconds{table=\"TABLE\"}` and `bigfather_table_last_commit_timestamp_seconds{table=\"TABLE\"}`; the console's Tables page shows the last commit.",
			"The newest staged row: `bigfather sql --config F \"select max(_ingested_at) from TABLE\"`.",
			"The pipeline's status and lag: `bigfather status --config F`, `sum by (pipeline) (bigfather_consumer_lag_records)`.",
		},
		Actions: []string{
			"Follow the runbook of the pipeline's status (`err`, `stall`, `stop`, `paused`, `warn`): a table goes stale because its pipeline cannot commit, is not running, is paused or falls behind.",
			"If the pipeline is OK and catching up after a restart or a burst, wait; the alert resolves once the table holds every record again or commits within the objective.",
			"If the objective is tighter than staging can be, raise `monitor.freshness_slo`: it must exceed `commit.interval` plus the time a commit takes.",
		},
	},
	{
		ID:    "lag-slo",
		Title: "A pipeline's lag is above the freshness objective",
		Meaning: "The oldest record a pipeline has not staged yet waits longer than `monitor.freshness_slo`. When it lands, " +
			"it is already older than the objective. The pipeline may be behind (WARN), stuck (STALL, ERR), not running " +
			"(STOP) or paused.",
		Confirm: []string{
			"`max by (pipeline, topic) (bigfather_consumer_lag_seconds{pipeline=\"NAME\"})` and `bigfather_consumer_lag_records` per partition: one hot partition, or all?",
			"`bigfather status --config F`: the pipeline's status names the cause.",
			"The console's Pipelines page (`/ui/pipelines/NAME`): lag per partition and its chart.",
		},
		Actions: []string{
			"Follow the runbook of the pipeline's status (`warn`, `stall`, `err`, `stop`, `paused`).",
			"If one partition lags alone, look at what is different about it: its owner process (the pipeline page names it), a partition much bigger than the others (a skewed key).",
			"If the pipeline is OK and catching up after a restart or a burst, wait; the alert resolves when the lag seconds fall below the objective.",
		},
	},
	{
		ID:    "not-ready",
		Title: "Not ready: a dependency does not answer",
		Meaning: "A readiness check fails (`bigfather_ready_check{check} == 0`): `kafka` (the brokers do not answer), " +
			"`catalog` (the Iceberg catalog), `warehouse` (the data files' store) or `pipelines` (a pipeline of the process " +
			"is failing, or still starting: loading a large dedup index takes a while). " +
			"`/readyz` answers 503 naming it, so load balancers take the process out. Staging waits and resumes by itself " +
			"when the dependency comes back.",
		Confirm: []string{
			"`curl -s http://HOST/readyz`: it names each failing check and why; `bigfather status --config F` shows the same.",
			"`bigfather_ready_check == 0` shows which check fails.",
			"The process log around the time the check turned: `fetch error` (Kafka), `staging failed` with the catalog or warehouse in `err`.",
		},
		Actions: []string{
			"kafka: check the brokers from the same machine (`kcat -b BROKER -L`) and `kafka.brokers` in the config.",
			"catalog: SQLite file present and the same file (a replaced file needs a restart once restored), Postgres reachable with the URI's user and database, or the REST catalog's server and credentials.",
			"warehouse: free space and permissions of a local warehouse; endpoint, bucket and credentials of an `s3://` one.",
			"pipelines: a pipeline still starting becomes ready by itself (the alert waits 2 minutes for that); a failing one: follow its status runbook (`err`, `stall`).",
			"Nothing to restart once the dependency is back, except after a replaced SQLite catalog: staging backs off (up to 30 s) and resumes from the tables' offsets.",
		},
	},
	{
		ID:    "kafka-partitions-offline",
		Title: "Kafka partitions are offline",
		Meaning: "Some partitions have no leader: nobody can produce to them or consume from them. Big Father's pipelines " +
			"on those partitions wait (their status turns STOP or STALL) and resume by themselves when a leader is back, " +
			"losing nothing on their side.",
		Confirm: []string{
			"`kafka-topics.sh --bootstrap-server BROKER --describe --unavailable-partitions`.",
			"`kcat -b BROKER -L`: partitions with `leader -1` or a leader error.",
			"`bigfather_kafka_partitions_offline`.",
		},
		Actions: []string{
			"Find the brokers that hold those partitions' replicas (`kafka-topics.sh --describe --topic TOPIC`) and bring them back: process, disk, network.",
			"If every replica is gone for good, only an unclean leader election brings the partition back, losing what the lost replicas had; that is a decision for the Kafka owners.",
			"Once leaders are back, check the pipelines' statuses return to OK (`bigfather status --config F`).",
		},
	},
	{
		ID:    "kafka-under-replicated",
		Title: "Kafka partitions are under-replicated",
		Meaning: "Some partitions have fewer in-sync replicas than replicas: a broker is down, slow or out of disk. " +
			"Nothing stops yet, but one more failure can take those partitions offline or lose acknowledged records. " +
			"Rolling broker restarts cause this briefly.",
		Confirm: []string{
			"`kafka-topics.sh --bootstrap-server BROKER --describe --under-replicated-partitions`.",
			"`kcat -b BROKER -L`: `isrs` shorter than `replicas`.",
			"`bigfather_kafka_partitions_under_replicated`.",
		},
		Actions: []string{
			"Find the broker missing from the in-sync replicas and check it: running, disk space, network, replication throughput.",
			"During a planned rolling restart, wait for it to finish; the alert waits 5 minutes before firing for that reason.",
		},
	},
	{
		ID:    "table-small-files",
		Title: "A table has many small data files",
		Meaning: "A table holds many data files under three quarters of `maintenance.target_file_size`. Every query opens " +
			"every file, so queries slow down and metadata grows. Staging writes small files on purpose (one commit " +
			"every `commit.interval`); compaction is what merges them, so it is not running or not keeping up.",
		Confirm: []string{
			"`bigfather_table_small_files{table=\"TABLE\"}` and, on the console's Tables page, the table's data files.",
			"Maintenance runs: `increase(bigfather_maintenance_runs_total[1h])` by result, and `time() - bigfather_maintenance_last_run_timestamp_seconds`.",
			"`maintenance.interval` in the config (0 turns scheduled maintenance off).",
		},
		Actions: []string{
			"Compact now: `bigfather maintain --config F --table TABLE` prints the files compacted.",
			"If scheduled maintenance is off (`maintenance.interval: 0`), turn it on, or run `bigfather maintain --config F` from cron.",
			"If maintenance runs fail, read the process log around them (the errors name the table and the store).",
			"If the table gets many small commits, a longer `commit.interval` or a larger `commit.max_rows` makes fewer, bigger files.",
		},
	},
}
