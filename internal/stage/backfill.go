package stage

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/query"
	"github.com/bigfather/bigfather/internal/row"
)

// BackfillStats counts what a backfill did.
type BackfillStats struct {
	Read, Staged, Duplicates, Rejected, Filtered, Skipped int64
}

// Replay is a Kafka range to stage again: [From, To) offsets of one partition, or records with a timestamp in
// [Since, Until) across the topic's partitions.
type Replay struct {
	Topic        string
	Partition    int32 // with offsets
	From, To     int64 // offsets; To -1 means the end
	Since, Until time.Time
	ByTime       bool
}

// BackfillSource returns the source name a file's records are staged under: "backfill:<file name>". A file is
// identified by its name: backfilling it again resumes after the records already staged.
func BackfillSource(path string) string { return "backfill:" + filepath.Base(path) }

// Backfill stages records from JSON Lines or Parquet files through the pipeline's whole path (checks,
// cleansing, enrichment, dedup, routing) into its tables, exactly once per file: each file is a source whose
// record index is the offset, committed with the rows like a Kafka partition. With dedup configured, records
// whose id the table already holds are dropped, so backfilling a full file over a partly staged stream adds
// only what is missing.
func Backfill(ctx context.Context, opts Options, files []string) (BackfillStats, error) {
	opts.defaults()
	e, err := newEngine(ctx, opts)
	if err != nil {
		return BackfillStats{}, err
	}
	defer e.close()
	var stats BackfillStats
	for _, path := range files {
		if err := e.backfillFile(ctx, path, &stats); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

// ReplayRange stages a Kafka range again through the pipeline's whole path, as source "replay:<topic>". It is
// meant for recovery (records lost from the tables, or rejected by an old definition) and needs dedup, which
// drops every record the tables already hold.
func ReplayRange(ctx context.Context, opts Options, r Replay) (BackfillStats, error) {
	opts.defaults()
	if !opts.Pipeline.Dedup.Enabled() {
		return BackfillStats{}, fmt.Errorf("pipeline %s: replaying a range needs dedup configured, so records already staged are recognized", opts.Pipeline.Name)
	}
	e, err := newEngine(ctx, opts)
	if err != nil {
		return BackfillStats{}, err
	}
	defer e.close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(opts.Brokers...), kgo.AllowAutoTopicCreation())
	if err != nil {
		return BackfillStats{}, fmt.Errorf("creating Kafka client: %w", err)
	}
	defer cl.Close()
	if e.dlqTopic != "" {
		e.produce = func(ctx context.Context, recs []dlqRecord) error { return produceDLQ(ctx, cl, e.dlqTopic, recs) }
	}
	ranges, err := resolveRange(ctx, cl, r)
	if err != nil {
		return BackfillStats{}, err
	}
	var stats BackfillStats
	for part, span := range ranges {
		if span[0] >= span[1] {
			continue
		}
		if err := e.replayPartition(ctx, cl, r.Topic, part, span[0], span[1], &stats); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

// resolveRange turns a replay into [from, to) offsets per partition.
func resolveRange(ctx context.Context, cl *kgo.Client, r Replay) (map[int32][2]int64, error) {
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, r.Topic)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets of %s: %w", r.Topic, err)
	}
	out := map[int32][2]int64{}
	if !r.ByTime {
		end, ok := ends.Lookup(r.Topic, r.Partition)
		if !ok || end.Err != nil {
			return nil, fmt.Errorf("topic %s has no partition %d", r.Topic, r.Partition)
		}
		to := r.To
		if to < 0 || to > end.Offset {
			to = end.Offset
		}
		out[r.Partition] = [2]int64{r.From, to}
		return out, nil
	}
	since, err := adm.ListOffsetsAfterMilli(ctx, r.Since.UnixMilli(), r.Topic)
	if err != nil {
		return nil, fmt.Errorf("finding offsets of %s at %s: %w", r.Topic, r.Since, err)
	}
	until, err := adm.ListOffsetsAfterMilli(ctx, r.Until.UnixMilli(), r.Topic)
	if err != nil {
		return nil, fmt.Errorf("finding offsets of %s at %s: %w", r.Topic, r.Until, err)
	}
	since.Each(func(o kadm.ListedOffset) {
		u, _ := until.Lookup(o.Topic, o.Partition)
		out[o.Partition] = [2]int64{o.Offset, u.Offset}
	})
	return out, nil
}

// startSource reads every table's stored offset for a source and returns where to start reading it.
func (e *engine) startSource(ctx context.Context, tp lake.TopicPartition) (int64, error) {
	start := int64(-1)
	for _, s := range e.sinks {
		if err := s.tbl.Refresh(ctx); err != nil {
			return 0, fmt.Errorf("reading offsets of %s: %w", s.name, err)
		}
		s.stored = lake.StoredOffsets(s.tbl, e.p.Name)
		off := s.stored.Get(tp)
		if off == lake.NoOffset {
			delete(s.skipBelow, tp)
			off = 0
		} else {
			s.skipBelow[tp] = off
		}
		if start < 0 || off < start {
			start = off
		}
	}
	return start, nil
}

// feed runs one source's records through the engine with a committer, sealing on the bounds; next returns the
// next record or ok=false at the end.
func (e *engine) feed(ctx context.Context, tp lake.TopicPartition, start int64, stats *BackfillStats, next func() (meta row.Meta, value []byte, ok bool, err error)) error {
	e.startCommitter(nil)
	defer e.stopCommitter()
	floors := e.floors(tp, nil)
	consumed := lake.Offsets{tp: start}
	now := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			e.drain(consumed)
			return err
		}
		meta, value, ok, err := next()
		if err != nil {
			e.discard()
			return err
		}
		if !ok {
			break
		}
		stats.Read++
		out, v := e.add(&meta, value, now, floors)
		switch out {
		case blocked:
			e.drain(consumed)
			return fmt.Errorf("%s record %d rejected under the pause policy: %s: %s", tp.Topic, meta.Offset, v.Code, v.Reason)
		case staged:
			stats.Staged++
		case duplicate:
			stats.Duplicates++
		case rejected:
			stats.Rejected++
		case filtered:
			stats.Filtered++
		}
		consumed[tp] = meta.Offset + 1
		if e.full() {
			e.seal(lake.Offsets{tp: meta.Offset + 1}, nil)
		}
		if err := e.failed(); err != nil {
			return err
		}
	}
	e.drain(consumed)
	return e.failed()
}

func (e *engine) backfillFile(ctx context.Context, path string, stats *BackfillStats) error {
	tp := lake.TopicPartition{Topic: BackfillSource(path), Partition: 0}
	start, err := e.startSource(ctx, tp)
	if err != nil {
		return err
	}
	stats.Skipped += start
	var next func() (row.Meta, []byte, bool, error)
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		lines, err := parquetAsJSON(ctx, path)
		if err != nil {
			return err
		}
		i := start
		next = func() (row.Meta, []byte, bool, error) {
			if i >= int64(len(lines)) {
				return row.Meta{}, nil, false, nil
			}
			i++
			return row.Meta{Topic: tp.Topic, Offset: i - 1}, lines[i-1], true, nil
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), int(max(e.p.Limits.MaxRecordBytes, 1<<20))+1)
		var line int64
		next = func() (row.Meta, []byte, bool, error) {
			for sc.Scan() {
				line++
				if line-1 < start || len(strings.TrimSpace(sc.Text())) == 0 {
					continue // already staged, or a blank line (which still counts as an offset)
				}
				return row.Meta{Topic: tp.Topic, Offset: line - 1}, sc.Bytes(), true, nil
			}
			if err := sc.Err(); err != nil {
				return row.Meta{}, nil, false, fmt.Errorf("backfill: reading %s line %d: %w", path, line+1, err)
			}
			return row.Meta{}, nil, false, nil
		}
	}
	e.log.Info("backfilling", "file", path, "source", tp.Topic, "resume_at", start)
	return e.feed(ctx, tp, start, stats, next)
}

// parquetAsJSON reads a Parquet file's rows as JSON objects (timestamps in RFC 3339).
func parquetAsJSON(ctx context.Context, path string) ([][]byte, error) {
	eng, err := query.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	res, err := eng.Query(ctx, "select * from read_parquet('"+strings.ReplaceAll(path, "'", "''")+"')")
	if err != nil {
		return nil, fmt.Errorf("backfill: reading %s: %w", path, err)
	}
	out := make([][]byte, 0, len(res.Rows))
	for _, r := range res.Rows {
		obj := make(map[string]any, len(r))
		for i, v := range r {
			if t, ok := v.(time.Time); ok {
				v = t.UTC().Format(time.RFC3339Nano)
			}
			obj[res.Columns[i]] = v
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("backfill: %s: %w", path, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func (e *engine) replayPartition(ctx context.Context, cl *kgo.Client, topic string, part int32, from, to int64, stats *BackfillStats) error {
	tp := lake.TopicPartition{Topic: "replay:" + topic, Partition: part}
	start, err := e.startSource(ctx, tp)
	if err != nil {
		return err
	}
	start = max(start, from)
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {part: kgo.NewOffset().At(start)}})
	defer cl.RemoveConsumePartitions(map[string][]int32{topic: {part}})
	var buf []*kgo.Record
	pos := start
	next := func() (row.Meta, []byte, bool, error) {
		for len(buf) == 0 {
			if pos >= to {
				return row.Meta{}, nil, false, nil
			}
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			fs := cl.PollRecords(pctx, 10000)
			cancel()
			if err := ctx.Err(); err != nil {
				return row.Meta{}, nil, false, err
			}
			if errs := fs.Errors(); len(errs) > 0 && fs.NumRecords() == 0 {
				return row.Meta{}, nil, false, fmt.Errorf("replaying %s/%d: %w", topic, part, errs[0].Err)
			}
			for _, r := range fs.Records() {
				if r.Partition == part && r.Offset >= pos && r.Offset < to {
					buf = append(buf, r)
				}
			}
		}
		r := buf[0]
		buf = buf[1:]
		pos = r.Offset + 1
		return row.Meta{Topic: tp.Topic, Partition: part, Offset: r.Offset, Timestamp: r.Timestamp, Key: r.Key}, r.Value, true, nil
	}
	e.log.Info("replaying", "topic", topic, "partition", part, "from", start, "to", to)
	return e.feed(ctx, tp, start, stats, next)
}
