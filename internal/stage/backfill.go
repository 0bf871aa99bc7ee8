package stage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/quality"
	"github.com/bigfather/bigfather/internal/query"
	"github.com/bigfather/bigfather/internal/row"
)

// BackfillStats counts what a backfill did.
type BackfillStats struct {
	Read, Staged, Rejected, Filtered int64
	// Duplicates are records the tables already hold: dropped by dedup, or, in a replay, records whose original
	// position the main table holds, and rejected records whose original position the rejected table holds.
	Duplicates int64
	// Skipped are records of the source staged by an earlier run, not read again.
	Skipped int64
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

// RangeError is a replay range the topic cannot serve: a missing topic or partition, a reversed or empty range,
// or offsets or times outside what the partition holds. It is a mistake in the request, not a failure.
type RangeError struct{ msg string }

func (e *RangeError) Error() string { return e.msg }

func rangeErrorf(format string, args ...any) error { return &RangeError{fmt.Sprintf(format, args...)} }

// backfillPrefix starts the source name of every backfilled file.
const backfillPrefix = "backfill:"

// backfillSource returns the source name a file is first staged under: "backfill:<file name>@<digest>". The
// digest (fileDigest) identifies the source; the name is there for people, printable (see printableName).
func backfillSource(path, digest string) string {
	return backfillPrefix + printableName(filepath.Base(path)) + "@" + digest
}

// fileDigest returns the first 16 hex digits of the SHA-256 of a file's content.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("backfill: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("backfill: reading %s: %w", path, err)
	}
	return shortDigest(h), nil
}

func shortDigest(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil))[:16] }

// printableName returns s with every byte that is not part of valid UTF-8, and every control character,
// written as \xNN, so that a file name is always a valid, one-line string in tables, properties and logs.
func printableName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Backfill stages records from JSON Lines or Parquet files through the pipeline's whole path (checks,
// cleansing, enrichment, dedup, routing) into its tables, exactly once per file content: each file is a
// source identified by the SHA-256 of its content, whose record index is the offset, committed with the rows
// like a Kafka partition. The same content is resumed (or does nothing when done) wherever it lies and
// whatever its name; different content is a new source. With dedup configured, records whose id the table
// already holds are dropped, so backfilling a full file over a partly staged stream adds only what is missing.
func Backfill(ctx context.Context, opts Options, files []string) (BackfillStats, error) {
	opts.defaults()
	if opts.Pipeline.Registry() {
		return BackfillStats{}, fmt.Errorf("pipeline %s: backfill reads JSON Lines and Parquet files, and the pipeline's format is %s; replay its topic instead", opts.Pipeline.Name, opts.Pipeline.Format)
	}
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
// drops every record the tables already hold. A record whose original position (topic, partition, offset)
// the main table holds is dropped as a duplicate; a record rejected again whose original position the
// rejected table holds is not added to it again. A range the topic cannot serve is a *RangeError.
func ReplayRange(ctx context.Context, opts Options, r Replay) (BackfillStats, error) {
	opts.defaults()
	if !opts.Pipeline.Dedup.Enabled() {
		return BackfillStats{}, fmt.Errorf("pipeline %s: replaying a range needs dedup configured, so records already staged are recognized", opts.Pipeline.Name)
	}
	// No topic auto-creation: a replay of a missing topic must say so, not create it.
	cl, err := kgo.NewClient(kgo.SeedBrokers(opts.Brokers...))
	if err != nil {
		return BackfillStats{}, fmt.Errorf("creating Kafka client: %w", err)
	}
	defer cl.Close()
	ranges, err := resolveRange(ctx, cl, r)
	if err != nil {
		return BackfillStats{}, err
	}
	e, err := newEngine(ctx, opts)
	if err != nil {
		return BackfillStats{}, err
	}
	defer e.close()
	if e.dlqTopic != "" {
		pcl, err := kgo.NewClient(kgo.SeedBrokers(opts.Brokers...), kgo.AllowAutoTopicCreation())
		if err != nil {
			return BackfillStats{}, fmt.Errorf("creating Kafka client: %w", err)
		}
		defer pcl.Close()
		e.produce = func(ctx context.Context, recs []dlqRecord) error { return produceDLQ(ctx, pcl, e.dlqTopic, recs) }
	}
	parts := make([]int32, 0, len(ranges))
	for p := range ranges {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var stats BackfillStats
	for _, part := range parts {
		span := ranges[part]
		if span[0] >= span[1] {
			continue
		}
		if err := e.replayPartition(ctx, cl, r.Topic, part, span[0], span[1], &stats); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

// resolveRange turns a replay into [from, to) offsets per partition. A missing topic or partition, a reversed
// range, offsets outside what the partition holds and a time range holding no record are *RangeErrors that
// name the topic, the partition and the valid range.
func resolveRange(ctx context.Context, cl *kgo.Client, r Replay) (map[int32][2]int64, error) {
	adm := kadm.NewClient(cl)
	tds, err := adm.ListTopics(ctx, r.Topic)
	if err != nil {
		return nil, fmt.Errorf("describing topic %s: %w", r.Topic, err)
	}
	td, ok := tds[r.Topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) || len(td.Partitions) == 0 {
		return nil, rangeErrorf("topic %q does not exist", r.Topic)
	}
	if td.Err != nil {
		return nil, fmt.Errorf("describing topic %s: %w", r.Topic, td.Err)
	}
	starts, err := adm.ListStartOffsets(ctx, r.Topic)
	if err != nil {
		return nil, fmt.Errorf("listing start offsets of %s: %w", r.Topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, r.Topic)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets of %s: %w", r.Topic, err)
	}
	bounds := map[int32][2]int64{} // [first, end) offsets per partition
	for p := range td.Partitions {
		s, ok1 := starts.Lookup(r.Topic, p)
		e, ok2 := ends.Lookup(r.Topic, p)
		switch {
		case !ok1 || !ok2:
			return nil, fmt.Errorf("listing offsets of %s partition %d: no answer", r.Topic, p)
		case s.Err != nil:
			return nil, fmt.Errorf("listing start offset of %s partition %d: %w", r.Topic, p, s.Err)
		case e.Err != nil:
			return nil, fmt.Errorf("listing end offset of %s partition %d: %w", r.Topic, p, e.Err)
		}
		bounds[p] = [2]int64{s.Offset, e.Offset}
	}
	if !r.ByTime {
		return offsetRange(r, bounds, len(td.Partitions))
	}
	if !r.Since.Before(r.Until) {
		return nil, rangeErrorf("topic %q: the time range %s..%s is reversed or empty: SINCE must be before UNTIL",
			r.Topic, r.Since.Format(time.RFC3339), r.Until.Format(time.RFC3339))
	}
	since, err := adm.ListOffsetsAfterMilli(ctx, r.Since.UnixMilli(), r.Topic)
	if err != nil {
		return nil, fmt.Errorf("finding offsets of %s at %s: %w", r.Topic, r.Since, err)
	}
	until, err := adm.ListOffsetsAfterMilli(ctx, r.Until.UnixMilli(), r.Topic)
	if err != nil {
		return nil, fmt.Errorf("finding offsets of %s at %s: %w", r.Topic, r.Until, err)
	}
	out := map[int32][2]int64{}
	records := int64(0)
	for p, b := range bounds {
		s, ok1 := since.Lookup(r.Topic, p)
		u, ok2 := until.Lookup(r.Topic, p)
		switch {
		case !ok1 || !ok2:
			return nil, fmt.Errorf("finding offsets of %s partition %d by time: no answer", r.Topic, p)
		case s.Err != nil:
			return nil, fmt.Errorf("finding offsets of %s partition %d at %s: %w", r.Topic, p, r.Since, s.Err)
		case u.Err != nil:
			return nil, fmt.Errorf("finding offsets of %s partition %d at %s: %w", r.Topic, p, r.Until, u.Err)
		}
		// A partition with no record at or after a time answers its end offset (or -1).
		from, to := clamp(s.Offset, b), clamp(u.Offset, b)
		out[p] = [2]int64{from, to}
		records += max(to-from, 0)
	}
	if records == 0 {
		return nil, rangeErrorf("topic %q holds no records with a timestamp from %s until %s%s", r.Topic,
			r.Since.Format(time.RFC3339), r.Until.Format(time.RFC3339), timeSpan(ctx, cl, r.Topic, bounds))
	}
	return out, nil
}

// clamp returns an offset listed by time within a partition's [first, end) bounds; -1 (no such record) is the end.
func clamp(off int64, b [2]int64) int64 {
	if off < 0 || off > b[1] {
		return b[1]
	}
	return max(off, b[0])
}

// offsetRange checks an offset replay against the partition's bounds.
func offsetRange(r Replay, bounds map[int32][2]int64, partitions int) (map[int32][2]int64, error) {
	b, ok := bounds[r.Partition]
	if !ok {
		return nil, rangeErrorf("topic %q has no partition %d: its partitions are 0 to %d", r.Topic, r.Partition, partitions-1)
	}
	asked := strconv.FormatInt(r.From, 10) + "-"
	if r.To >= 0 {
		asked += strconv.FormatInt(r.To, 10)
	}
	if r.To >= 0 && r.From >= r.To {
		return nil, rangeErrorf("topic %q partition %d: the range %s is reversed or empty: FROM must be less than TO (TO is exclusive)", r.Topic, r.Partition, asked)
	}
	if b[0] >= b[1] {
		return nil, rangeErrorf("topic %q partition %d holds no records (its end offset is %d): nothing to replay in %s", r.Topic, r.Partition, b[1], asked)
	}
	to := r.To
	if to < 0 {
		to = b[1]
	}
	if r.From < b[0] || r.From >= b[1] || to > b[1] {
		return nil, rangeErrorf("topic %q partition %d: the range %s is outside the partition, which holds offsets %d to %d: give FROM-TO within %d-%d (TO exclusive, or empty for the end)",
			r.Topic, r.Partition, asked, b[0], b[1]-1, b[0], b[1])
	}
	return map[int32][2]int64{r.Partition: {r.From, to}}, nil
}

// timeSpan describes the timestamps a topic's records span, for an error message: "; its records span A to B",
// or "; it holds no records". It reads the first and the last record of every partition, and says nothing
// when they cannot be read quickly.
func timeSpan(ctx context.Context, cl *kgo.Client, topic string, bounds map[int32][2]int64) string {
	firsts, lasts := map[int32]int64{}, map[int32]int64{}
	for p, b := range bounds {
		if b[0] < b[1] {
			firsts[p], lasts[p] = b[0], b[1]-1
		}
	}
	if len(firsts) == 0 {
		return "; it holds no records"
	}
	var oldest, newest time.Time
	for _, at := range []map[int32]int64{firsts, lasts} {
		recs := fetchAt(ctx, cl, topic, at)
		if len(recs) != len(at) {
			return ""
		}
		for _, rec := range recs {
			if oldest.IsZero() || rec.Timestamp.Before(oldest) {
				oldest = rec.Timestamp
			}
			if rec.Timestamp.After(newest) {
				newest = rec.Timestamp
			}
		}
	}
	return fmt.Sprintf("; its records span %s to %s", oldest.UTC().Format(time.RFC3339Nano), newest.UTC().Format(time.RFC3339Nano))
}

// fetchAt reads the record at each partition's offset (or the first after it), waiting a few seconds at most.
func fetchAt(ctx context.Context, cl *kgo.Client, topic string, at map[int32]int64) map[int32]*kgo.Record {
	offs := map[int32]kgo.Offset{}
	parts := make([]int32, 0, len(at))
	for p, o := range at {
		offs[p] = kgo.NewOffset().At(o)
		parts = append(parts, p)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs})
	defer cl.RemoveConsumePartitions(map[string][]int32{topic: parts})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out := map[int32]*kgo.Record{}
	for len(out) < len(at) && ctx.Err() == nil {
		fs := cl.PollRecords(ctx, 1000)
		for _, rec := range fs.Records() {
			if want, ok := at[rec.Partition]; ok && rec.Offset >= want && out[rec.Partition] == nil {
				out[rec.Partition] = rec
			}
		}
	}
	return out
}

// refreshOffsets reloads every table and the offsets it stores.
func (e *engine) refreshOffsets(ctx context.Context) error {
	for _, s := range e.sinks {
		if err := s.tbl.Refresh(ctx); err != nil {
			return fmt.Errorf("reading offsets of %s: %w", s.name, err)
		}
		s.stored = lake.StoredOffsets(s.tbl, e.p.Name)
	}
	return nil
}

// startSource reads every table's stored offset for a source and returns where to start reading it.
func (e *engine) startSource(ctx context.Context, tp lake.TopicPartition) (int64, error) {
	if err := e.refreshOffsets(ctx); err != nil {
		return 0, err
	}
	return e.startAt(tp), nil
}

// startAt sets every table's floor for a source from the offsets read by refreshOffsets and returns where to
// start reading it: the smallest.
func (e *engine) startAt(tp lake.TopicPartition) int64 {
	start := int64(-1)
	for _, s := range e.sinks {
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
	return start
}

// fileSource returns the source a file with the given digest is staged under, from the offsets read by
// refreshOffsets. The digest identifies the file: when a table stores an offset for a backfill source with
// the same digest (the same content, staged under another name or from another directory), that source goes
// on; otherwise the file is a new source named after it.
func (e *engine) fileSource(path, digest string) lake.TopicPartition {
	var same []string
	legacy := false
	oldName := backfillPrefix + printableName(filepath.Base(path)) // before sources were identified by content
	for _, s := range e.sinks {
		for tp := range s.stored {
			if tp.Partition != 0 || !strings.HasPrefix(tp.Topic, backfillPrefix) {
				continue
			}
			if strings.HasSuffix(tp.Topic, "@"+digest) {
				same = append(same, tp.Topic)
			}
			legacy = legacy || tp.Topic == oldName
		}
	}
	if len(same) > 0 {
		slices.Sort(same) // only one, unless two runs staged the same content at once under different names
		return lake.TopicPartition{Topic: same[0]}
	}
	if legacy {
		e.log.Warn("a file of this name was backfilled before sources were identified by their content; this file is staged as a new source (with dedup, the records the tables hold are dropped)",
			"file", path, "old_source", oldName)
	}
	return lake.TopicPartition{Topic: backfillSource(path, digest)}
}

// sourceRecord is one record of a backfilled file or a replayed range.
type sourceRecord struct {
	meta  row.Meta
	value []byte
	// reject, when set, is the verdict the reader already reached: a line over the size limit, whose value is
	// only the first limit bytes.
	reject *quality.Violation
	// heldMain and heldRejected say that the main or the rejected table holds the record from its original
	// position (replays).
	heldMain, heldRejected bool
}

// feed runs one source's records through the engine with a committer, sealing on the bounds; next returns the
// next record or ok=false at the end. When next fails, what was read before is committed.
func (e *engine) feed(ctx context.Context, tp lake.TopicPartition, start int64, stats *BackfillStats, next func() (rec sourceRecord, ok bool, err error)) error {
	e.startCommitter(nil)
	defer e.stopCommitter()
	floors := e.floors(tp, nil)
	// For a record whose rejection the rejected table already holds: never added there again.
	heldFloors := slices.Clone(floors)
	if e.rejs != nil {
		heldFloors[len(heldFloors)-1] = math.MaxInt64
	}
	consumed := lake.Offsets{tp: start}
	now := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			e.drain(consumed)
			return err
		}
		rec, ok, err := next()
		if err != nil {
			e.drain(consumed)
			return errors.Join(err, e.failed())
		}
		if !ok {
			break
		}
		stats.Read++
		fl := floors
		if rec.heldRejected {
			fl = heldFloors
		}
		var out outcome
		var v *quality.Violation
		switch {
		case rec.heldMain:
			out = duplicate
			e.m.Duplicates.WithLabelValues(e.p.Name).Inc()
		case rec.reject != nil:
			out, v = e.place(&rec.meta, rec.value, now, fl, &prepared{v: rec.reject, rule: -1})
		default:
			out, v = e.add(&rec.meta, rec.value, now, fl)
		}
		switch out {
		case unread:
			e.drain(consumed)
			return fmt.Errorf("%s record %d: reading its schema: the schema registry did not answer; run the replay again", tp.Topic, rec.meta.Offset)
		case evolve:
			e.drain(consumed)
			return fmt.Errorf("%s record %d: its schema was registered after the replay began and adds to the table; run the replay again", tp.Topic, rec.meta.Offset)
		case blocked:
			e.drain(consumed)
			return fmt.Errorf("%s record %d rejected under the pause policy: %s: %s", tp.Topic, rec.meta.Offset, v.Code, v.Reason)
		case staged:
			stats.Staged++
		case duplicate:
			stats.Duplicates++
		case rejected:
			if rec.heldRejected && e.rejs != nil {
				stats.Duplicates++
			} else {
				stats.Rejected++
			}
		case filtered:
			stats.Filtered++
		}
		consumed[tp] = rec.meta.Offset + 1
		if e.full() {
			e.seal(lake.Offsets{tp: rec.meta.Offset + 1}, nil)
		}
		if err := e.failed(); err != nil {
			return err
		}
	}
	e.drain(consumed)
	return e.failed()
}

func (e *engine) backfillFile(ctx context.Context, path string, stats *BackfillStats) error {
	digest, err := fileDigest(path)
	if err != nil {
		return err
	}
	if err := e.refreshOffsets(ctx); err != nil {
		return err
	}
	tp := e.fileSource(path, digest)
	start := e.startAt(tp)
	stats.Skipped += start
	var next func() (sourceRecord, bool, error)
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		lines, err := parquetAsJSON(ctx, path)
		if err != nil {
			return err
		}
		i := start
		next = func() (sourceRecord, bool, error) {
			if i >= int64(len(lines)) {
				return sourceRecord{}, false, nil
			}
			i++
			return sourceRecord{meta: row.Meta{Topic: tp.Topic, Offset: i - 1}, value: lines[i-1]}, true, nil
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		defer f.Close()
		h := sha256.New()
		limit := e.p.Limits.MaxRecordBytes
		lr := &lineReader{r: bufio.NewReaderSize(io.TeeReader(f, h), 64<<10), keep: int(limit)}
		line := int64(-1) // index of the last line read
		next = func() (sourceRecord, bool, error) {
			for {
				text, size, err := lr.next()
				if errors.Is(err, io.EOF) {
					if got := shortDigest(h); got != digest {
						return sourceRecord{}, false, fmt.Errorf("backfill: %s changed while it was read (its SHA-256 starts %s now, %s before): the records read so far are staged as %s", path, got, digest, tp.Topic)
					}
					return sourceRecord{}, false, nil
				}
				if err != nil {
					return sourceRecord{}, false, fmt.Errorf("backfill: reading %s line %d: %w", path, line+2, err)
				}
				line++
				if line < start {
					continue // already staged
				}
				meta := row.Meta{Topic: tp.Topic, Offset: line}
				if size > limit {
					return sourceRecord{meta: meta, value: text, reject: quality.Oversize(size, limit)}, true, nil
				}
				if len(bytes.TrimSpace(text)) == 0 {
					continue // a blank line, which still counts as an offset
				}
				return sourceRecord{meta: meta, value: text}, true, nil
			}
		}
	}
	e.log.Info("backfilling", "file", path, "source", tp.Topic, "resume_at", start)
	return e.feed(ctx, tp, start, stats, next)
}

// lineReader reads JSON Lines in bounded memory: a line longer than keep bytes is read to its end in chunks,
// keeping only its first keep bytes and counting its length.
type lineReader struct {
	r    *bufio.Reader
	keep int
	buf  []byte
}

// next returns the next line without its line ending ("\n", "\r\n", or a final "\r", as bufio.ScanLines
// drops them), at most keep bytes of it, and its full length. After the last line it returns io.EOF. The
// line is valid until the next call.
func (lr *lineReader) next() (line []byte, size int64, err error) {
	lr.buf = lr.buf[:0]
	var n int64
	var prev, last byte // the line's last two bytes so far
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(chunk) > 0 {
			n += int64(len(chunk))
			if room := lr.keep - len(lr.buf); room > 0 {
				lr.buf = append(lr.buf, chunk[:min(room, len(chunk))]...)
			}
			if len(chunk) >= 2 {
				prev, last = chunk[len(chunk)-2], chunk[len(chunk)-1]
			} else {
				prev, last = last, chunk[0]
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (!errors.Is(err, io.EOF) || n == 0) {
			return nil, 0, err
		}
		break
	}
	switch {
	case last == '\n' && n >= 2 && prev == '\r':
		n -= 2
	case last == '\n' || last == '\r':
		n--
	}
	return lr.buf[:min(int64(len(lr.buf)), n)], n, nil
}

// parquetAsJSON reads a Parquet file's rows as JSON objects (timestamps in RFC 3339).
func parquetAsJSON(ctx context.Context, path string) ([][]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("backfill: %s: %w", path, err)
	}
	eng, err := query.Open(ctx, query.AllowFiles(abs)) // the SQL sandbox reads only files it is given
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	res, err := eng.Query(ctx, "select * from read_parquet('"+strings.ReplaceAll(abs, "'", "''")+"')")
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

// offsetSet is a set of offsets within [from, to), one bit each.
type offsetSet struct {
	from, to int64
	bits     []uint64
}

func newOffsetSet(from, to int64) *offsetSet {
	return &offsetSet{from: from, to: to, bits: make([]uint64, (to-from+63)/64)}
}

func (s *offsetSet) add(off int64) {
	if off >= s.from && off < s.to {
		i := off - s.from
		s.bits[i/64] |= 1 << (i % 64)
	}
}

func (s *offsetSet) has(off int64) bool {
	i := off - s.from
	return off >= s.from && off < s.to && s.bits[i/64]&(1<<(i%64)) != 0
}

// heldOffsets returns the offsets in [from, to) of topic/part that t holds rows of from their original position
// (rows whose _topic is the topic itself, as the live pipeline stages them). The manifests' column bounds
// leave out the files that cannot hold any; the rest are read, three columns of them.
func heldOffsets(ctx context.Context, t *table.Table, topic string, part int32, from, to int64) (*offsetSet, error) {
	held := newOffsetSet(from, to)
	if t.CurrentSnapshot() == nil {
		return held, nil
	}
	filter := iceberg.NewAnd(
		iceberg.EqualTo(iceberg.Reference("_topic"), topic),
		iceberg.EqualTo(iceberg.Reference("_partition"), part),
		iceberg.GreaterThanEqual(iceberg.Reference("_offset"), from),
		iceberg.LessThan(iceberg.Reference("_offset"), to))
	tasks, err := t.Scan(table.WithRowFilter(filter)).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("planning files: %w", err)
	}
	files := make([]string, 0, len(tasks))
	for _, task := range tasks {
		files = append(files, lake.LocalPath(task.File.FilePath()))
	}
	err = lake.ReadTableColumns(ctx, t, files, []string{"_topic", "_partition", "_offset"}, func(rec arrow.RecordBatch) error {
		topics, ok1 := rec.Column(0).(*array.String)
		parts, ok2 := rec.Column(1).(*array.Int32)
		offs, ok3 := rec.Column(2).(*array.Int64)
		if !ok1 || !ok2 || !ok3 {
			return fmt.Errorf("unexpected column types %v", rec.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if parts.Value(i) == part && topics.Value(i) == topic {
				held.add(offs.Value(i))
			}
		}
		return nil
	})
	return held, err
}

func (e *engine) replayPartition(ctx context.Context, cl *kgo.Client, topic string, part int32, from, to int64, stats *BackfillStats) error {
	tp := lake.TopicPartition{Topic: "replay:" + topic, Partition: part}
	start, err := e.startSource(ctx, tp)
	if err != nil {
		return err
	}
	if start > from {
		stats.Skipped += min(start, to) - from
	}
	start = max(start, from)
	if start >= to {
		return nil
	}
	heldMain, err := heldOffsets(ctx, e.main.tbl, topic, part, start, to)
	if err != nil {
		return fmt.Errorf("reading the positions %s holds: %w", e.main.name, err)
	}
	heldRej := newOffsetSet(start, start)
	if e.rejs != nil {
		if heldRej, err = heldOffsets(ctx, e.rejs.tbl, topic, part, start, to); err != nil {
			return fmt.Errorf("reading the positions %s holds: %w", e.rejs.name, err)
		}
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {part: kgo.NewOffset().At(start)}})
	defer cl.RemoveConsumePartitions(map[string][]int32{topic: {part}})
	var buf []*kgo.Record
	pos := start
	next := func() (sourceRecord, bool, error) {
		for len(buf) == 0 {
			if pos >= to {
				return sourceRecord{}, false, nil
			}
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			fs := cl.PollRecords(pctx, 10000)
			cancel()
			if err := ctx.Err(); err != nil {
				return sourceRecord{}, false, err
			}
			if errs := fs.Errors(); len(errs) > 0 && fs.NumRecords() == 0 {
				return sourceRecord{}, false, fmt.Errorf("replaying %s/%d: %w", topic, part, errs[0].Err)
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
		return sourceRecord{
			meta:         row.Meta{Topic: tp.Topic, Partition: part, Offset: r.Offset, Timestamp: r.Timestamp, Key: r.Key, Probe: isProbe(r.Headers)},
			value:        r.Value,
			heldMain:     heldMain.has(r.Offset),
			heldRejected: heldRej.has(r.Offset),
		}, true, nil
	}
	e.log.Info("replaying", "topic", topic, "partition", part, "from", start, "to", to)
	return e.feed(ctx, tp, start, stats, next)
}
