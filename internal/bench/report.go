package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what Run measured. Its JSON keys are stable (scripts and CI read them); times are in seconds,
// sizes in bytes, 1 MB is 10^6 bytes.
//
// Setting:
//
//	shape                    plain, quality, fanout or avro
//	count                    demo events the throughput run produced and staged
//	cores                    runtime.NumCPU() of the machine
//	go_version               the Go release the binary was built with
//	brokers                  "embedded" (in memory, in a child process) or the seed brokers given
//	partitions               partitions of each benchmark topic
//	commit_interval_seconds  the pipelines' commit.interval
//
// Throughput run (count events produced first, then staged from the start):
//
//	seconds                  staging start (group join included) to the last snapshot of any of its tables
//	records_per_sec          count / seconds
//	bytes                    bytes of the record values staged (JSON, or for avro framed Avro: 5 bytes of
//	                         magic byte and schema id, then the Avro binary)
//	mb_per_sec               bytes / 10^6 / seconds
//	rows                     rows in the main table
//	rejected                 rows in the rejected table
//	duplicates               records dropped by dedup (metric bigfather_duplicates_dropped_total)
//	filtered                 records dropped by filters (metric bigfather_rows_filtered_total)
//	route_rows               rows in the route tables (fanout; each event is in the main table and one route table)
//	files                    data files in the current snapshots of the run's tables (main, routes, rejected)
//	commits                  commits to the main table (leaving out calls that had nothing to commit)
//	commit_p50_seconds, commit_p99_seconds
//	                         time to write one batch's Parquet files and commit them to the main table
//	                         (bigfather_commit_duration_seconds, observed into buckets 3% apart)
//	backlog_latency_p50_seconds, backlog_latency_p99_seconds
//	                         per row: commit time of the snapshot holding it minus its Kafka timestamp; mostly
//	                         the time the row waited in the backlog
//	peak_rss_bytes           this process's peak resident size while staging (VmHWM); it stages in-process
//	memory_limit_bytes       the soft memory limit staging ran under (memory_limit: auto), 0 for none
//
// Live run (a steady stream into a pipeline that is already consuming; its own topic and tables):
//
//	live_rate                events produced per second
//	live_seconds             how long the stream was measured, after a one-second warm-up
//	live_count               events produced, warm-up included
//	live_rows                rows in the live run's main table
//	latency_samples          rows measured: main- and route-table rows produced after the warm-up
//	latency_p50_seconds, latency_p99_seconds
//	                         end-to-end latency: commit time of the snapshot holding a row minus its Kafka
//	                         timestamp (about half the commit interval plus the commit, for a caught-up pipeline)
//	live_commit_p50_seconds, live_commit_p99_seconds
//	                         as commit_p50/p99_seconds, for the live run's small batches
//
//	tables                   every table of both runs: {"run", "role" (main, route, rejected), "name", "rows", "files"}
type Result struct {
	Shape                 string  `json:"shape"`
	Count                 int     `json:"count"`
	Cores                 int     `json:"cores"`
	GoVersion             string  `json:"go_version"`
	Brokers               string  `json:"brokers"`
	Partitions            int     `json:"partitions"`
	CommitIntervalSeconds float64 `json:"commit_interval_seconds"`

	Seconds                  float64 `json:"seconds"`
	RecordsPerSec            float64 `json:"records_per_sec"`
	Bytes                    int64   `json:"bytes"`
	MBPerSec                 float64 `json:"mb_per_sec"`
	Rows                     int64   `json:"rows"`
	Rejected                 int64   `json:"rejected"`
	Duplicates               int64   `json:"duplicates"`
	Filtered                 int64   `json:"filtered"`
	RouteRows                int64   `json:"route_rows"`
	Files                    int     `json:"files"`
	Commits                  int64   `json:"commits"`
	CommitP50Seconds         float64 `json:"commit_p50_seconds"`
	CommitP99Seconds         float64 `json:"commit_p99_seconds"`
	BacklogLatencyP50Seconds float64 `json:"backlog_latency_p50_seconds"`
	BacklogLatencyP99Seconds float64 `json:"backlog_latency_p99_seconds"`
	PeakRSSBytes             int64   `json:"peak_rss_bytes"`
	MemoryLimitBytes         int64   `json:"memory_limit_bytes"`

	LiveRate             int     `json:"live_rate"`
	LiveSeconds          float64 `json:"live_seconds"`
	LiveCount            int     `json:"live_count"`
	LiveRows             int64   `json:"live_rows"`
	LatencySamples       int64   `json:"latency_samples"`
	LatencyP50Seconds    float64 `json:"latency_p50_seconds"`
	LatencyP99Seconds    float64 `json:"latency_p99_seconds"`
	LiveCommitP50Seconds float64 `json:"live_commit_p50_seconds"`
	LiveCommitP99Seconds float64 `json:"live_commit_p99_seconds"`

	Tables []TableResult `json:"tables"`
}

// TableResult is one table a benchmark run wrote.
type TableResult struct {
	Run   string `json:"run"`  // throughput or live
	Role  string `json:"role"` // main, route or rejected
	Name  string `json:"name"`
	Rows  int64  `json:"rows"`
	Files int    `json:"files"`
}

// WriteJSON writes r as one indented JSON object.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes r as a readable table, each figure with what it means.
func WriteTable(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, value, note string) { fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, value, note) }
	brokers := "embedded broker (in memory, in a child process)"
	if r.Brokers != "embedded" {
		brokers = "brokers " + r.Brokers
	}
	fmt.Fprintf(tw, "bigfather bench: shape %s, %s events, %d cores, %s\n", r.Shape, group(int64(r.Count)), r.Cores, r.GoVersion)
	fmt.Fprintf(tw, "staging in this process; %s; %d partitions; commit interval %s\n\n",
		brokers, r.Partitions, time.Duration(r.CommitIntervalSeconds*float64(time.Second)))

	fmt.Fprintf(tw, "throughput: %s events produced first, then staged from the start\n", group(int64(r.Count)))
	row("records/s", group(int64(round(r.RecordsPerSec, 0))), "events / seconds")
	row("MB/s", strconv.FormatFloat(r.MBPerSec, 'f', 1, 64), "record values, 1 MB = 10^6 bytes")
	row("seconds", strconv.FormatFloat(r.Seconds, 'f', 2, 64), "staging start (group join included) to the last commit")
	row("rows", group(r.Rows), "in the main table")
	row("rejected", group(r.Rejected), "in the rejected table")
	row("duplicates", group(r.Duplicates), "dropped by dedup")
	row("filtered", group(r.Filtered), "dropped by filters")
	if r.Shape == string(Fanout) {
		row("route rows", group(r.RouteRows), "in the route tables")
	}
	row("files", strconv.Itoa(r.Files), "data files in the tables' snapshots")
	row("commits", group(r.Commits), "to the main table")
	row("commit p50 / p99", seconds(r.CommitP50Seconds)+" / "+seconds(r.CommitP99Seconds), "writing a batch's Parquet files and committing them")
	row("backlog delay p50 / p99", seconds(r.BacklogLatencyP50Seconds)+" / "+seconds(r.BacklogLatencyP99Seconds), "commit time minus Kafka timestamp: mostly the wait in the backlog")
	limit := "no memory limit"
	if r.MemoryLimitBytes > 0 {
		limit = "memory limit " + mib(r.MemoryLimitBytes)
	}
	row("peak RSS", mib(r.PeakRSSBytes), "this process while staging ("+limit+")")

	fmt.Fprintf(tw, "\nlatency: a steady %s events/s for %s (after %s of warm-up) into a caught-up pipeline\n",
		group(int64(r.LiveRate)), time.Duration(r.LiveSeconds*float64(time.Second)), Warmup)
	row("end-to-end p50", seconds(r.LatencyP50Seconds), "commit time of the snapshot holding a row minus its Kafka timestamp")
	row("end-to-end p99", seconds(r.LatencyP99Seconds), fmt.Sprintf("over %s rows", group(r.LatencySamples)))
	row("commit p50 / p99", seconds(r.LiveCommitP50Seconds)+" / "+seconds(r.LiveCommitP99Seconds), "writing a batch's Parquet files and committing them")
	row("rows", group(r.LiveRows), fmt.Sprintf("of %s events produced", group(int64(r.LiveCount))))
	return tw.Flush()
}

// group formats n with thousands separators: 1,000,000.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// seconds formats a duration in seconds as milliseconds below one second, else as seconds: 12 ms, 1.24 s.
func seconds(s float64) string {
	if s < 1 {
		return strconv.FormatFloat(s*1000, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(s, 'f', 2, 64) + " s"
}

// mib formats bytes as mebibytes: 468 MiB.
func mib(b int64) string { return strconv.FormatInt(b>>20, 10) + " MiB" }
