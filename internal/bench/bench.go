// Package bench measures staging end to end for `bigfather bench`: it produces demo events into Kafka, stages
// them in this process with one pipeline of a chosen shape into fresh Iceberg tables, and reads throughput,
// latency, commit times, files and peak memory back from the pipeline's metrics and from the tables.
//
// A benchmark is two runs, each with its own topic, pipeline and tables:
//
//   - The throughput run produces Options.Count events first, then stages them from the start. Its clock
//     runs from the staging start (consumer-group join included) to the last snapshot committed to any of the
//     pipeline's tables, once every record is accounted for: rows committed to the main table, rejected,
//     dropped as duplicates or filtered. Peak memory is this process's peak resident size during the run.
//     End-to-end delays in this run mostly measure how long a record waited in the backlog.
//   - The live run produces a steady Options.LiveRate events/s while the pipeline (already in its group)
//     stages them: one second of warm-up, then Options.LiveFor measured. Its delays are what a caught-up
//     pipeline adds: each row's commit time minus its Kafka timestamp.
//
// A row's commit time is the timestamp of the snapshot that added its data file; its Kafka timestamp is the
// producer's clock. With remote brokers both clocks must agree.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/demo"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/memlimit"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/stage"
)

// Warmup is how long the live run produces before its records count: the consumer's first fetches and the
// first commit interval settle in it.
const Warmup = time.Second

// stallTimeout is how long Run waits for any progress of a staging run before it gives up.
const stallTimeout = 60 * time.Second

// Options configures Run.
type Options struct {
	// Shape is what the pipeline does to each record.
	Shape Shape
	// Count is how many demo events the throughput run produces and stages; at least 1.
	Count int
	// Brokers are Kafka seed brokers. Empty runs the embedded broker, in memory, in a child process started
	// with BrokerArgv.
	Brokers []string
	// BrokerArgv runs ServeBroker: the bigfather binary and its bench subcommand. Required without Brokers.
	BrokerArgv []string
	// DataDir holds the SQLite catalog (catalog.db), the warehouse and the demo definitions. Required.
	DataDir string
	// Seed seeds the demo generator; 0 picks a random seed.
	Seed int64
	// Partitions is the partition count of the topics Run creates; at least 1.
	Partitions int
	// CommitInterval is the pipelines' commit.interval: how long a record waits at most for a commit that
	// max_rows does not trigger first.
	CommitInterval time.Duration
	// LiveRate is the live run's events per second.
	LiveRate int
	// LiveFor is how long the live run is measured, after Warmup.
	LiveFor time.Duration
	// Logger receives progress and the pipelines' logs; nil discards them.
	Logger *slog.Logger
	// Stderr receives the child broker's standard error; nil discards it.
	Stderr io.Writer
}

// check reports the first invalid option.
func (o *Options) check() error {
	switch {
	case !o.Shape.valid():
		return fmt.Errorf("unknown shape %q", o.Shape)
	case o.Count < 1:
		return fmt.Errorf("count must be at least 1, got %d", o.Count)
	case o.DataDir == "":
		return errors.New("no data directory given")
	case len(o.Brokers) == 0 && len(o.BrokerArgv) == 0:
		return errors.New("neither brokers nor a command to start the embedded broker given")
	case o.Partitions < 1:
		return fmt.Errorf("partitions must be at least 1, got %d", o.Partitions)
	case o.CommitInterval <= 0:
		return fmt.Errorf("commit interval must be positive, got %s", o.CommitInterval)
	case o.LiveRate < 1:
		return fmt.Errorf("live rate must be at least 1 event/s, got %d", o.LiveRate)
	case o.LiveFor <= 0:
		return fmt.Errorf("live duration must be positive, got %s", o.LiveFor)
	}
	return nil
}

// Run runs the throughput run and the live run (see the package documentation) and returns what they measured.
// It fails if a run makes no progress for a minute, if staging stops, or if the tables do not account for
// every produced record exactly. Topics it created on Options.Brokers are deleted afterwards; the tables stay
// in Options.DataDir.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	b := &bench{o: o, log: o.Logger}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	brokers, desc := o.Brokers, strings.Join(o.Brokers, ",")
	if len(brokers) == 0 {
		stderr := o.Stderr
		if stderr == nil {
			stderr = io.Discard
		}
		cb, err := startChildBroker(o.BrokerArgv, o.Partitions, stderr)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer cb.stop()
		brokers, desc = []string{cb.addr}, "embedded"
		b.log.Info("embedded broker started in a child process", "addr", cb.addr, "pid", cb.cmd.Process.Pid)
	}
	b.brokers = brokers
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("bench: kafka client: %w", err)
	}
	defer cl.Close()
	b.adm = kadm.NewClient(cl)
	if len(o.Brokers) > 0 {
		defer b.cleanup()
	}
	b.cfg = config.Default(o.DataDir)
	b.lk, err = lake.Open(ctx, b.cfg.Catalog.URI, b.cfg.Warehouse)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer b.lk.Close()
	if o.Shape == Avro {
		// The registry lives in the catalog database, as with `bigfather stage`.
		if b.reg, err = registry.Open(ctx, b.cfg.Catalog.URI); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer b.reg.Close()
	}
	b.id = runID()

	res := &Result{Shape: string(o.Shape), Count: o.Count, Cores: runtime.NumCPU(), GoVersion: runtime.Version(),
		Brokers: desc, Partitions: o.Partitions, CommitIntervalSeconds: o.CommitInterval.Seconds(),
		LiveRate: o.LiveRate, LiveSeconds: o.LiveFor.Seconds()}
	if err := b.throughput(ctx, res); err != nil {
		return nil, fmt.Errorf("bench: throughput run: %w", err)
	}
	if err := b.live(ctx, res); err != nil {
		return nil, fmt.Errorf("bench: live run: %w", err)
	}
	return res, nil
}

// bench is one Run's state.
type bench struct {
	o       Options
	log     *slog.Logger
	brokers []string
	adm     *kadm.Client
	cfg     *config.Config
	lk      *lake.Lake
	reg     *registry.Store // the schema registry, for the Avro shape only
	id      string
	topics  []string // created, to delete from external brokers
	groups  []string
}

// runID names a run's topics, pipelines and tables: the UTC time and a random suffix, so that runs sharing
// brokers or a data directory never share them.
func runID() string {
	var r [2]byte
	_, _ = rand.Read(r[:])
	return time.Now().UTC().Format("20060102t150405") + "_" + hex.EncodeToString(r[:])
}

// prepared is a run's topic, pipeline and tables.
type prepared struct {
	topic  string
	p      *config.Pipeline
	tables []tableRef
	avro   *framedAvro // the Avro shape's record values; nil: demo's JSON
}

// encode is the run's demo.ProduceOptions.Encode.
func (r *prepared) encode() func([]byte, demo.Event) []byte {
	if r.avro == nil {
		return nil
	}
	return r.avro.encode
}

// prepare creates a fresh topic and builds the pipeline of the run called kind; for the Avro shape, it
// registers the demo event's schema under the pipeline's subject.
func (b *bench) prepare(ctx context.Context, kind string) (*prepared, error) {
	base := string(b.o.Shape) + "_" + b.id
	topic := "bigfather-bench-" + string(b.o.Shape) + "-" + strings.ReplaceAll(b.id, "_", "-")
	if kind == "live" {
		base, topic = base+"_live", topic+"-live"
	}
	if _, err := b.adm.CreateTopic(ctx, int32(b.o.Partitions), -1, nil, topic); err != nil {
		return nil, fmt.Errorf("creating topic %s: %w", topic, err)
	}
	b.topics = append(b.topics, topic)
	p, tables, err := pipelineFor(b.o.Shape, b.o.DataDir, base, topic, b.o.CommitInterval)
	if err != nil {
		return nil, err
	}
	b.groups = append(b.groups, p.Group)
	r := &prepared{topic: topic, p: p, tables: tables}
	if b.o.Shape == Avro {
		id, err := registerAvro(ctx, b.reg, p.Subject)
		if err != nil {
			return nil, err
		}
		r.avro = &framedAvro{id: uint32(id)}
	}
	return r, nil
}

// throughput stages a backlog of Count events and fills res's throughput figures.
func (b *bench) throughput(ctx context.Context, res *Result) error {
	r, err := b.prepare(ctx, "throughput")
	if err != nil {
		return err
	}
	topic, p, tables := r.topic, r.p, r.tables
	b.log.Info("producing demo events", "topic", topic, "count", b.o.Count, "seed", b.o.Seed)
	var values countingWriter
	po := demo.ProduceOptions{Brokers: b.brokers, Topic: topic, Count: b.o.Count, Seed: b.o.Seed, Encode: r.encode(), Logger: b.log}
	if r.avro == nil {
		po.AllEvents = &values
	}
	st, err := demo.Produce(ctx, po)
	if err != nil {
		return err
	}
	records := st.Records()
	// AllEvents receives every produced value and a newline, and the Avro encoder counts every value it
	// writes: with no faults configured, exactly the records.
	res.Bytes = values.bytes - values.lines
	if r.avro != nil {
		res.Bytes = r.avro.bytes
	}
	ends, err := b.endOffsets(ctx, topic)
	if err != nil {
		return err
	}

	// Stage like `bigfather stage` (memory_limit: auto) with the producer's buffers gone.
	prevLimit := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prevLimit)
	limit, src := memlimit.Apply(b.cfg.MemoryLimitFor([]*config.Pipeline{p}))
	if limit != math.MaxInt64 {
		res.MemoryLimitBytes = limit
	}
	gctx, stopGuard := context.WithCancel(ctx)
	defer stopGuard()
	if src == memlimit.FromConfig {
		go memlimit.Guard(gctx, 5*time.Second, b.log)
	}
	debug.FreeOSMemory()
	if !resetPeakRSS() {
		b.log.Warn("cannot reset the peak resident size (/proc/self/clear_refs); peak_rss_bytes covers the whole process")
	}

	b.log.Info("staging", "pipeline", p.Name, "shape", b.o.Shape, "records", records)
	m := newMetrics()
	start := time.Now()
	s := startStaging(ctx, stage.Options{Pipeline: p, Brokers: b.brokers, Lake: b.lk, Metrics: m, Registry: b.reg, Logger: b.log})
	defer s.stop()
	if err := s.waitAccounted(ctx, m, p, records); err != nil {
		return err
	}
	if err := s.waitCaughtUp(ctx, b.lk, p, tables, ends); err != nil {
		return err
	}
	res.PeakRSSBytes = peakRSS()
	h, err := histogramOf(m.CommitDuration, p.Name, p.Table.Name)
	if err != nil {
		return err
	}
	commits, p50, p99 := commitQuantiles(h)
	res.Commits, res.CommitP50Seconds, res.CommitP99Seconds = commits, round(p50, 4), round(p99, 4)
	res.Duplicates, res.Filtered = int64(counterSum(m.Duplicates)), int64(counterSum(m.RowsFiltered))
	if err := s.stop(); err != nil {
		return err
	}

	read, err := b.readTables(ctx, "throughput", tables, 0)
	if err != nil {
		return err
	}
	res.Tables = append(res.Tables, read.tables...)
	res.Rows, res.Rejected, res.RouteRows, res.Files = read.rows, read.rejected, read.routeRows, read.files
	if got := res.Rows + res.Rejected + res.Duplicates + res.Filtered; got != int64(records) {
		return fmt.Errorf("%d records produced, but the tables account for %d (%d rows, %d rejected, %d duplicates, %d filtered)",
			records, got, res.Rows, res.Rejected, res.Duplicates, res.Filtered)
	}
	res.Seconds = round(float64(read.lastCommitMs-start.UnixMilli())/1000, 3)
	if res.Seconds <= 0 {
		return fmt.Errorf("the last commit (%d ms) is not after the staging start (%d ms)", read.lastCommitMs, start.UnixMilli())
	}
	res.RecordsPerSec = round(float64(records)/res.Seconds, 1)
	res.MBPerSec = round(float64(res.Bytes)/1e6/res.Seconds, 3)
	res.BacklogLatencyP50Seconds, res.BacklogLatencyP99Seconds = delayPercentiles(read.delays)
	return nil
}

// live stages a steady stream and fills res's live figures.
func (b *bench) live(ctx context.Context, res *Result) error {
	r, err := b.prepare(ctx, "live")
	if err != nil {
		return err
	}
	topic, p, tables := r.topic, r.p, r.tables
	m := newMetrics()
	s := startStaging(ctx, stage.Options{Pipeline: p, Brokers: b.brokers, Lake: b.lk, Metrics: m, Registry: b.reg, Logger: b.log})
	defer s.stop()
	if err := s.waitAssigned(ctx, b.adm, p.Group, topic, b.o.Partitions); err != nil {
		return err
	}
	count := int(math.Ceil(float64(b.o.LiveRate) * (Warmup + b.o.LiveFor).Seconds()))
	b.log.Info("producing a steady stream", "topic", topic, "rate", b.o.LiveRate, "count", count, "warmup", Warmup, "measured", b.o.LiveFor)
	from := time.Now().Add(Warmup)
	st, err := demo.Produce(ctx, demo.ProduceOptions{Brokers: b.brokers, Topic: topic, Rate: b.o.LiveRate, Count: count,
		Seed: b.o.Seed, Live: true, Encode: r.encode(), Logger: b.log})
	if err != nil {
		return err
	}
	records := st.Records()
	res.LiveCount = records
	ends, err := b.endOffsets(ctx, topic)
	if err != nil {
		return err
	}
	if err := s.waitAccounted(ctx, m, p, records); err != nil {
		return err
	}
	if err := s.waitCaughtUp(ctx, b.lk, p, tables, ends); err != nil {
		return err
	}
	h, err := histogramOf(m.CommitDuration, p.Name, p.Table.Name)
	if err != nil {
		return err
	}
	_, p50, p99 := commitQuantiles(h)
	res.LiveCommitP50Seconds, res.LiveCommitP99Seconds = round(p50, 4), round(p99, 4)
	dups, filtered := int64(counterSum(m.Duplicates)), int64(counterSum(m.RowsFiltered))
	if err := s.stop(); err != nil {
		return err
	}

	read, err := b.readTables(ctx, "live", tables, from.UnixMilli())
	if err != nil {
		return err
	}
	res.Tables = append(res.Tables, read.tables...)
	res.LiveRows = read.rows
	if got := read.rows + read.rejected + dups + filtered; got != int64(records) {
		return fmt.Errorf("%d records produced, but the tables account for %d (%d rows, %d rejected, %d duplicates, %d filtered)",
			records, got, read.rows, read.rejected, dups, filtered)
	}
	res.LatencySamples = int64(len(read.delays))
	if res.LatencySamples == 0 {
		return fmt.Errorf("no row was produced after the %s warm-up", Warmup)
	}
	res.LatencyP50Seconds, res.LatencyP99Seconds = delayPercentiles(read.delays)
	return nil
}

// endOffsets lists the end offset of every partition of topic.
func (b *bench) endOffsets(ctx context.Context, topic string) (lake.Offsets, error) {
	listed, err := b.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing the end offsets of %s: %w", topic, err)
	}
	out := lake.Offsets{}
	listed.Each(func(o kadm.ListedOffset) { out[lake.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset })
	return out, nil
}

// cleanup deletes the topics and groups Run created on external brokers.
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if len(b.groups) > 0 {
		if _, err := b.adm.DeleteGroups(ctx, b.groups...); err != nil {
			b.log.Warn("deleting the benchmark's consumer groups", "groups", b.groups, "err", err)
		}
	}
	if len(b.topics) > 0 {
		resp, err := b.adm.DeleteTopics(ctx, b.topics...)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			b.log.Warn("deleting the benchmark's topics", "topics", b.topics, "err", err)
		}
	}
}

// tablesRead is what readTables found in one run's tables.
type tablesRead struct {
	tables                    []TableResult
	rows, rejected, routeRows int64
	files                     int
	lastCommitMs              int64
	delays                    []int64 // milliseconds, rows of the main and route tables
}

// readTables reads the tables of a run: rows and files per table, the last commit, and the delay of every
// main- and route-table row whose Kafka timestamp is at least fromMs.
func (b *bench) readTables(ctx context.Context, run string, tables []tableRef, fromMs int64) (tablesRead, error) {
	var out tablesRead
	for _, ref := range tables {
		t, err := b.lk.LoadTable(ctx, ref.name)
		if err != nil {
			return out, err
		}
		files, err := liveFiles(ctx, t)
		if err != nil {
			return out, err
		}
		tr := TableResult{Run: run, Role: string(ref.role), Name: ref.name, Files: len(files)}
		for _, f := range files {
			tr.Rows += f.rows
		}
		out.tables = append(out.tables, tr)
		out.files += len(files)
		out.lastCommitMs = max(out.lastCommitMs, lastCommitMs(t))
		switch ref.role {
		case roleMain:
			out.rows += tr.Rows
		case roleRoute:
			out.routeRows += tr.Rows
		case roleRejected:
			out.rejected += tr.Rows
			continue
		}
		if out.delays, err = readDelays(ctx, t, files, fromMs, out.delays); err != nil {
			return out, err
		}
	}
	return out, nil
}

// newMetrics is the staging metrics with a finer commit-duration histogram (commitBuckets), read by Run only.
func newMetrics() *monitor.Metrics {
	m := monitor.NewMetrics()
	m.CommitDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "bigfather_commit_duration_seconds", Help: "Time to write data files and commit them to a table.",
		Buckets: commitBuckets,
	}, []string{"pipeline", "table"})
	return m
}

// countingWriter counts the bytes and lines written to it.
type countingWriter struct{ bytes, lines int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.bytes += int64(len(p))
	w.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// round rounds x to digits decimal places.
func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
