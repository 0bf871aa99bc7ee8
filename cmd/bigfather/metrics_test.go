package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// metricsGolden is the monitor's golden file of metric families: name, type and label names.
const metricsGolden = "../../internal/monitor/testdata/metrics.golden"

// TestMetricsEndToEnd: a stage process staging 300 valid and 5 malformed records exports, once caught up,
// exactly the counts users chart and alert on (records consumed, rows committed per table, rejects by
// reason, end-to-end latency observations, the newest event time, lag 0 and status OK per partition); its
// /metrics passes `promtool check metrics`, and every family it exports is in the golden file with the type
// the file gives.
func TestMetricsEndToEnd(t *testing.T) {
	promtool := promtoolPath(t)
	e := newEnv(t)
	const topic, valid, partitions = "metrics.events", 300, 2
	createTopic(t, e, topic, partitions)
	var recs []*kgo.Record
	for i := range valid {
		recs = append(recs, &kgo.Record{Partition: int32(i % partitions), Value: gameEvent(i)})
	}
	var bad []string
	for i := range 5 {
		v, reason := malformed(i)
		recs = append(recs, &kgo.Record{Partition: int32(i % partitions), Value: v})
		bad = append(bad, reason)
	}
	produceTo(t, e, topic, recs)

	cfg := withMonitor(t, e.writePipelineConfig(topic, "metrics_events", "{interval: 200ms, max_rows: 100000}", ""), monitorSettings)
	addr := loopbackAddr(t)
	stage := e.startStage(cfg, "--http", addr)

	// gameEvent(i) is i half-seconds after 2026-11-20T00:00:00Z: the newest is the last one's.
	newest := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Add((valid - 1) * 500 * time.Millisecond)
	want := []string{
		fmt.Sprintf(`bigfather_records_consumed_total{pipeline="test"} %d`, valid+len(bad)),
		fmt.Sprintf(`bigfather_rows_committed_total{pipeline="test",table="staging.metrics_events"} %d`, valid),
		fmt.Sprintf(`bigfather_rows_committed_total{pipeline="test",table="staging.metrics_events_rejected"} %d`, len(bad)),
		fmt.Sprintf(`bigfather_end_to_end_latency_seconds_count{pipeline="test"} %d`, valid),
		`bigfather_table_newest_event_timestamp_seconds{table="staging.metrics_events"} ` + strconv.FormatFloat(float64(newest.UnixMilli())/1e3, 'g', -1, 64),
		`bigfather_pipeline_status{pipeline="test",status="OK"} 1`,
		`bigfather_pipeline_status{pipeline="test",status="ERR"} 0`,
		`bigfather_table_freshness_seconds{table="staging.metrics_events"} 0`,
		`bigfather_ready_check{check="kafka"} 1`,
		`bigfather_ready_check{check="pipelines"} 1`,
		`bigfather_kafka_brokers{state="reachable"} 1`,
		`bigfather_kafka_partitions_offline 0`,
		`bigfather_buffered_rows{pipeline="test"} 0`,
	}
	for _, reason := range bad {
		want = append(want, fmt.Sprintf(`bigfather_rows_rejected_total{pipeline="test",reason=%q} 1`, reason))
	}
	for p := range partitions {
		want = append(want,
			fmt.Sprintf(`bigfather_consumer_lag_records{partition="%d",pipeline="test",topic=%q} 0`, p, topic),
			fmt.Sprintf(`bigfather_consumer_lag_seconds{partition="%d",pipeline="test",topic=%q} 0`, p, topic),
			fmt.Sprintf(`bigfather_partition_status{partition="%d",pipeline="test",status="OK",topic=%q} 1`, p, topic))
	}

	var body string
	var missing []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		var code int
		code, body = httpGet("http://" + addr + "/metrics")
		missing = missing[:0]
		for _, w := range want {
			if code != http.StatusOK || !hasLine(body, w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s /metrics (HTTP %d) still lacks:\n%s\n/metrics:\n%s\nstage log:\n%s",
				code, strings.Join(missing, "\n"), body, stage.tail())
		}
	}
	checkMetricsWith(t, promtool, []byte(body))
	checkFamiliesInGolden(t, body)
	if code := stage.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("stage exited %d after SIGTERM, want 0; log:\n%s", code, stage.tail())
	}
}

// hasLine reports whether the exposition has line as one whole line.
func hasLine(exposition, line string) bool {
	return strings.Contains("\n"+exposition, "\n"+line+"\n")
}

// checkMetricsWith pipes an exposition to `promtool check metrics`, which prints lint problems and exits
// non-zero; any output fails the test.
func checkMetricsWith(t *testing.T, promtool string, exposition []byte) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics on the stage's /metrics: %v\n%s", err, out)
	}
}

// checkFamiliesInGolden checks that every family of the exposition (apart from go_* and process_*) is in
// the golden file with the same type.
func checkFamiliesInGolden(t *testing.T, exposition string) {
	t.Helper()
	data, err := os.ReadFile(metricsGolden)
	if err != nil {
		t.Fatal(err)
	}
	golden := map[string]string{} // name → type
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && !strings.HasPrefix(l, "#") {
			golden[f[0]] = f[1]
		}
	}
	seen := 0
	for _, l := range strings.Split(exposition, "\n") {
		f := strings.Fields(l)
		if len(f) != 4 || f[0] != "#" || f[1] != "TYPE" || strings.HasPrefix(f[2], "go_") || strings.HasPrefix(f[2], "process_") {
			continue
		}
		seen++
		switch typ, ok := golden[f[2]]; {
		case !ok:
			t.Errorf("the stage exports %s, which %s lacks: add it to the collectors internal/monitor's golden test builds and run go test ./internal/monitor -run TestMetricsGolden -update", f[2], metricsGolden)
		case typ != f[3]:
			t.Errorf("the stage exports %s as a %s, %s says %s", f[2], f[3], metricsGolden, typ)
		}
	}
	if seen < 20 {
		t.Errorf("only %d metric families in the stage's /metrics, want at least 20", seen)
	}
}
