package lake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
)

// TopicPartition names one Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "/" + strconv.Itoa(int(tp.Partition)) }

// Offsets maps partitions to the next offset to consume.
type Offsets map[TopicPartition]int64

// NoOffset marks a partition for which a table stores no offset yet.
const NoOffset int64 = -1

const offsetPrefix = "bigfather.offset."

// offsetKey is the table property holding the next offset of one (pipeline, topic, partition). Pipeline names
// hold no dots, so the first dot after the prefix ends the pipeline and the last dot starts the partition.
func offsetKey(pipeline string, tp TopicPartition) string {
	return offsetPrefix + pipeline + "." + tp.Topic + "." + strconv.Itoa(int(tp.Partition))
}

// StoredOffsets returns the next offsets to consume that the table records for pipeline.
func StoredOffsets(t *table.Table, pipeline string) Offsets {
	prefix := offsetPrefix + pipeline + "."
	out := Offsets{}
	for k, v := range t.Properties() {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		dot := strings.LastIndexByte(rest, '.')
		if dot <= 0 {
			continue
		}
		p, err1 := strconv.ParseInt(rest[dot+1:], 10, 32)
		o, err2 := strconv.ParseInt(v, 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out[TopicPartition{Topic: rest[:dot], Partition: int32(p)}] = o
	}
	return out
}

// Get returns the offset for tp, or NoOffset.
func (o Offsets) Get(tp TopicPartition) int64 {
	if v, ok := o[tp]; ok {
		return v
	}
	return NoOffset
}

// writeSliceRows is how many rows WriteFiles hands the Parquet writer at a time.
const writeSliceRows = 64 << 10

// WriteFiles writes recs, in order, as Parquet data files of t (split by t's partition spec) without committing
// them. Files that never get committed are orphans; they are invisible to readers, which use snapshot file
// lists. When writing fails, every file the write created (finished or not) is removed before it returns.
func WriteFiles(ctx context.Context, t *table.Table, recs ...arrow.RecordBatch) ([]iceberg.DataFile, error) {
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	if rows == 0 {
		return nil, nil
	}
	name := strings.Join(t.Identifier(), ".")
	rio, err := writeIO(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("writing data files for %s: %w", name, err)
	}
	// The same table, writing through rio (it commits nothing, so it needs no catalog).
	wt := table.New(t.Identifier(), t.Metadata(), t.MetadataLocation(), func(context.Context) (icebergio.IO, error) { return rio, nil }, nil)
	// Fed in slices (zero-copy): the Parquet writer converts and encodes each slice's columns at once, so its
	// scratch memory follows the slice, not the batch. The slices of one partition still fill the same files.
	slices := func(yield func(arrow.RecordBatch, error) bool) {
		for _, rec := range recs {
			for lo := int64(0); lo < rec.NumRows(); lo += writeSliceRows {
				if !yield(rec.NewSlice(lo, min(lo+writeSliceRows, rec.NumRows())), nil) { // WriteRecords releases each
					return
				}
			}
		}
	}
	var files []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, wt, recs[0].Schema(), iter.Seq2[arrow.RecordBatch, error](slices)) {
		if err != nil {
			// The error comes last, once every writer stopped: nothing creates files any more.
			if rmErr := removeAll(rio, rio.created()); rmErr != nil {
				return nil, fmt.Errorf("writing data files for %s: %w (removing the files it left: %v)", name, err, rmErr)
			}
			return nil, fmt.Errorf("writing data files for %s: %w", name, err)
		}
		files = append(files, df)
	}
	if err := rio.failure(); err != nil {
		// The writer reported success for a file whose write or close failed: none of these files is whole.
		if rmErr := removeAll(rio, rio.created()); rmErr != nil {
			return nil, fmt.Errorf("writing data files for %s: %w (removing the files it left: %v)", name, err, rmErr)
		}
		return nil, fmt.Errorf("writing data files for %s: %w", name, err)
	}
	// The writer can lose a failure (a partition writer that failed to create its file) and report fewer
	// files: committing them would store the batch's offsets without all of its rows. Every row must be in a
	// file.
	var written int64
	for _, df := range files {
		written += df.Count()
	}
	if written != rows {
		err := fmt.Errorf("the Parquet writer put %d of the batch's %d rows in %d files (a write failed without an error)", written, rows, len(files))
		if rmErr := removeAll(rio, rio.created()); rmErr != nil {
			return nil, fmt.Errorf("writing data files for %s: %w (removing the files it left: %v)", name, err, rmErr)
		}
		return nil, fmt.Errorf("writing data files for %s: %w", name, err)
	}
	return files, nil
}

// FencedError reports that the table's stored offset for a partition is not the one the batch was planned
// from: another worker committed that partition, so the batch must be discarded and the partition re-sought.
type FencedError struct {
	Table     string
	Partition TopicPartition
	Expected  int64
	Stored    int64
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("table %s: partition %s: stored next offset is %d, batch was planned from %d: another worker committed it",
		e.Table, e.Partition, e.Stored, e.Expected)
}

// Batch is one commit to one table: data files plus the offsets they cover. Commit owns the batch's data
// files (Files, and those Prepare returns): it removes the ones it knows no snapshot will list, that is all of
// them when the commit definitely failed, and those of an attempt that a later attempt replaced. When the
// outcome is unknown (the catalog failed in a way that may have committed) the last attempt's files stay.
type Batch struct {
	Pipeline string
	// Shared and Route are the pipeline's terms of ownership (see Ownership): every attempt checks that the
	// table still admits the pipeline, and fails with *OwnerError otherwise.
	Shared, Route bool
	Files         []iceberg.DataFile
	// From holds, for every partition in Next, the next offset the table stored when the batch was planned
	// (NoOffset when it stored none). The commit fails with *FencedError if the table now stores another.
	From Offsets
	// Next holds the next offset to consume per partition after this batch.
	Next Offsets
	// Summary is added to the snapshot summary.
	Summary iceberg.Properties
	// Prepare, when set, is called before every attempt (the first and each one after a conflict) with the
	// table as it is now, and returns the files to add instead of Files. Dedup uses it to drop rows that
	// another writer committed first.
	Prepare func(ctx context.Context, t *table.Table) ([]iceberg.DataFile, error)
}

// CommitResult tells what a commit did.
type CommitResult struct {
	Table     *table.Table
	Conflicts int // optimistic-concurrency conflicts retried on a reloaded table
}

// maxConflictRetries bounds how often one batch is replanned on a table that keeps moving under it.
const maxConflictRetries = 50

// Commit atomically adds the batch's files and records its offsets in t's properties, asserting that the
// table's current snapshot is the one the commit was planned on. When another writer moved the table it
// reloads the table, re-checks the stored offsets (returning *FencedError if any of the batch's partitions
// moved) and tries again on the new base.
func Commit(ctx context.Context, t *table.Table, b Batch) (res CommitResult, err error) {
	name := strings.Join(t.Identifier(), ".")
	props := make(iceberg.Properties, len(b.Next))
	for tp, off := range b.Next {
		props[offsetKey(b.Pipeline, tp)] = strconv.FormatInt(off, 10)
	}
	own := Ownership{Pipeline: b.Pipeline, Shared: b.Shared, Route: b.Route}
	res = CommitResult{Table: t}
	// files holds the current attempt's data files; unknown is set when the catalog failed in a way that may
	// have committed them.
	files, unknown := b.Files, false
	defer func() {
		if err != nil && !unknown {
			removeDataFiles(ctx, t, files)
		}
	}()
	for {
		if err := checkFence(name, res.Table, b); err != nil {
			return res, err
		}
		if err := checkOwner(name, res.Table, own); err != nil {
			return res, err
		}
		if b.Prepare != nil {
			next, err := b.Prepare(ctx, res.Table)
			if err != nil {
				return res, fmt.Errorf("committing to %s: %w", name, err)
			}
			// An earlier attempt's files that this one does not reuse belong to a commit that failed.
			removeDataFiles(ctx, t, unused(files, next))
			files = next
		}
		txn := res.Table.NewTransaction()
		if err := txn.AssertRefSnapshotID(""); err != nil {
			return res, fmt.Errorf("committing to %s: %w", name, err)
		}
		if err := txn.SetProperties(props); err != nil {
			return res, fmt.Errorf("committing to %s: %w", name, err)
		}
		if len(files) > 0 {
			if err := txn.AddDataFiles(ctx, files, snapshotSummary(b), table.WithoutDuplicateCheck()); err != nil {
				return res, fmt.Errorf("committing to %s: %w", name, err)
			}
		}
		nt, err := txn.Commit(ctx)
		if err == nil {
			res.Table = nt
			return res, nil
		}
		if !isConflict(err) {
			unknown = true
			return res, fmt.Errorf("committing to %s: %w", name, err)
		}
		if res.Conflicts >= maxConflictRetries {
			return res, fmt.Errorf("committing to %s: %w", name, err)
		}
		res.Conflicts++
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("committing to %s: %w", name, err)
		}
		if err := res.Table.Refresh(ctx); err != nil {
			return res, fmt.Errorf("reloading %s after a conflict: %w", name, err)
		}
	}
}

// SnapshotOffsetsPrefix starts the snapshot summary property that records, as JSON {"topic/partition": next},
// the offsets a pipeline's commit stored: the table's history then shows where each snapshot's rows end.
const SnapshotOffsetsPrefix = "bigfather.offsets."

// snapshotSummary is b's summary plus the offsets it stores.
func snapshotSummary(b Batch) iceberg.Properties {
	out := make(iceberg.Properties, len(b.Summary)+1)
	maps.Copy(out, b.Summary)
	if len(b.Next) > 0 {
		offs := make(map[string]int64, len(b.Next))
		for tp, off := range b.Next {
			offs[tp.String()] = off
		}
		if js, err := json.Marshal(offs); err == nil {
			out[SnapshotOffsetsPrefix+b.Pipeline] = string(js)
		}
	}
	return out
}

// isConflict reports whether a failed commit lost a race with another writer and committed nothing, so that it
// can be replanned on the reloaded table. A catalog whose compare-and-swap fails reports table.ErrCommitFailed,
// but the SQL catalog first checks the commit's requirements (AssertRefSnapshotID and the like) against the
// table it loads, before writing anything, and reports a failed one as a plain error reading
// "requirement failed: ..." (iceberg-go v0.7.0, table/requirements.go); a table that moved under the commit
// usually shows up that way. One that moves between that check and the write fails the catalog's
// compare-and-swap (UPDATE iceberg_tables ... WHERE metadata_location = the one loaded, zero rows), reported
// as table.ErrCommitFailed ("metadata-location moved underneath us"). Both are the same on SQLite and Postgres:
// the SQL catalog does both in Go, whatever the dialect.
func isConflict(err error) bool {
	return errors.Is(err, table.ErrCommitFailed) || strings.Contains(strings.ToLower(err.Error()), "requirement failed: ")
}

func checkFence(name string, t *table.Table, b Batch) error {
	stored := StoredOffsets(t, b.Pipeline)
	tps := make([]TopicPartition, 0, len(b.Next))
	for tp := range b.Next {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	for _, tp := range tps {
		if want, got := b.From.Get(tp), stored.Get(tp); want != got {
			return &FencedError{Table: name, Partition: tp, Expected: want, Stored: got}
		}
	}
	return nil
}

// IsConflict reports whether a failed commit lost an optimistic-concurrency race and committed nothing, so it
// can be planned again on the reloaded table (see isConflict).
func IsConflict(err error) bool { return isConflict(err) }
