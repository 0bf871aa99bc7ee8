// Package maintain keeps Big Father's Iceberg tables healthy while staging writes them: it compacts small
// data files into files near a target size (one rewrite commit per table, carrying every offset property
// forward untouched), expires snapshots past a retention, and deletes files under a table's location that no
// live snapshot references once they are older than a safety age (the orphans of crashed batches, the data
// files of expired snapshots, old metadata files).
//
// Every step is an optimistic commit like staging's own (lake.Commit): it asserts the snapshot it was planned
// on. Maintenance never makes staging wait or fail: a staging commit that lands first only makes maintenance
// replan on the new snapshot (compaction re-applies the files it already wrote) or give up until the next run;
// a staging commit that loses to a maintenance commit sees an ordinary conflict and retries. Compaction
// snapshots carry lake.MaintenanceProperty, so dedup's incremental reader (lake.AddedSince) does not take their
// files for rows of another writer.
package maintain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/lake"
)

// Options say what one maintenance run does. The zero value of a field turns its step off where noted.
type Options struct {
	// TargetFileSize is the size compaction aims its files at; files under 3/4 of it are small. 0: no
	// compaction.
	TargetFileSize int64
	// SnapshotRetention is how long snapshots stay; MinSnapshots of the newest always stay. MinSnapshots 0:
	// no expiry.
	SnapshotRetention time.Duration
	MinSnapshots      int
	// OrphanAge is how old an unreferenced file must be to be deleted. 0: no orphan removal.
	OrphanAge time.Duration
}

// Report is what one run did to one table, and the table's state afterwards.
type Report struct {
	Table string
	// Compaction: data files replaced and written, their bytes, and whether a staging commit made it give up.
	FilesRewritten, FilesWritten int
	BytesRewritten, BytesWritten int64
	Yielded                      bool
	// Manifests: small data manifests merged, and the manifests written in their place.
	ManifestsMerged, ManifestsWritten int
	// Expiry: snapshots removed from the table's history.
	SnapshotsExpired int
	// Orphans: files deleted and their bytes.
	OrphansRemoved int
	BytesRemoved   int64
	// The table afterwards: live data files, those of them under 3/4 of the target size, snapshots kept.
	DataFiles, SmallFiles, Snapshots int
	// Took is the run's duration.
	Took time.Duration
}

// String is the one-line summary `bigfather maintain` prints.
func (r Report) String() string {
	s := fmt.Sprintf("%s: compacted %d files (%s) into %d (%s)", r.Table, r.FilesRewritten, Bytes(r.BytesRewritten),
		r.FilesWritten, Bytes(r.BytesWritten))
	if r.Yielded {
		s += " (yielded to staging; retried next run)"
	}
	if r.ManifestsMerged > 0 {
		s += fmt.Sprintf(", merged %d manifests into %d", r.ManifestsMerged, r.ManifestsWritten)
	}
	return s + fmt.Sprintf(", expired %d snapshots, removed %d orphan files (%s); now %d data files (%d small), %d snapshots",
		r.SnapshotsExpired, r.OrphansRemoved, Bytes(r.BytesRemoved), r.DataFiles, r.SmallFiles, r.Snapshots)
}

// Bytes formats a byte count with a binary unit.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Table runs compaction (with the merge of small manifests), snapshot expiry and orphan removal on the table
// named "namespace.table", in that order, so the files compaction replaced leave with the snapshots that listed them. A table that does not
// exist yet is skipped (zero report, no error).
func Table(ctx context.Context, lk *lake.Lake, name string, o Options) (Report, error) {
	start := time.Now()
	rep := Report{Table: name}
	t, err := lk.LoadTable(ctx, name)
	if err != nil {
		if isNoTable(err) {
			return rep, nil
		}
		return rep, err
	}
	if o.TargetFileSize > 0 {
		c, err := Compact(ctx, t, o.TargetFileSize)
		if err != nil {
			return rep, fmt.Errorf("compacting %s: %w", name, err)
		}
		rep.FilesRewritten, rep.FilesWritten, rep.BytesRewritten, rep.BytesWritten, rep.Yielded =
			c.FilesRewritten, c.FilesWritten, c.BytesRewritten, c.BytesWritten, c.Yielded
		t = c.Table
		m, err := MergeManifests(ctx, t)
		if err != nil {
			return rep, fmt.Errorf("merging the manifests of %s: %w", name, err)
		}
		rep.ManifestsMerged, rep.ManifestsWritten, t = m.Replaced, m.Written, m.Table
		rep.Yielded = rep.Yielded || m.Yielded
	}
	if o.MinSnapshots > 0 {
		n, nt, err := Expire(ctx, t, o.SnapshotRetention, o.MinSnapshots)
		if err != nil {
			return rep, fmt.Errorf("expiring snapshots of %s: %w", name, err)
		}
		rep.SnapshotsExpired, t = n, nt
	}
	if o.OrphanAge > 0 {
		// Reading the files t references fails when another process expired those snapshots and removed their
		// files meanwhile: read the table again and start over.
		for attempt := 0; ; attempt++ {
			n, b, err := RemoveOrphans(ctx, t, o.OrphanAge)
			if err == nil {
				rep.OrphansRemoved, rep.BytesRemoved = n, b
				break
			}
			if !errors.Is(err, fs.ErrNotExist) || attempt >= 2 {
				return rep, fmt.Errorf("removing orphan files of %s: %w", name, err)
			}
			if err := t.Refresh(ctx); err != nil {
				return rep, fmt.Errorf("removing orphan files of %s: %w", name, err)
			}
		}
	}
	st, err := Stats(ctx, t, o.TargetFileSize)
	if err != nil {
		return rep, fmt.Errorf("reading %s: %w", name, err)
	}
	rep.DataFiles, rep.SmallFiles, rep.Snapshots = st.DataFiles, st.SmallFiles, st.Snapshots
	rep.Took = time.Since(start)
	return rep, nil
}

// TableStats is a table's file and snapshot counts.
type TableStats struct {
	DataFiles, SmallFiles, Snapshots int
	DataBytes                        int64
}

// Stats counts t's live data files, those under 3/4 of target (all of them when target is 0), and its
// snapshots.
func Stats(ctx context.Context, t *table.Table, target int64) (TableStats, error) {
	st := TableStats{Snapshots: len(t.Metadata().Snapshots())}
	if t.CurrentSnapshot() == nil {
		return st, nil
	}
	tasks, err := t.Scan().PlanFiles(ctx)
	if err != nil {
		return st, fmt.Errorf("planning files: %w", err)
	}
	st.DataFiles = len(tasks)
	for _, task := range tasks {
		size := task.File.FileSizeBytes()
		st.DataBytes += size
		if target <= 0 || size < small(target) {
			st.SmallFiles++
		}
	}
	return st, nil
}

// small is the size under which a data file is small: compaction's candidate rule.
func small(target int64) int64 { return target * 3 / 4 }

func isNoTable(err error) bool { return errors.Is(err, catalog.ErrNoSuchTable) }

// isConflict reports whether a commit lost a race with another writer and committed nothing: the catalog's
// compare-and-swap failed, or a requirement (the asserted snapshot) no longer held. Same rule as lake's.
func isConflict(err error) bool {
	return errors.Is(err, table.ErrCommitFailed) || strings.Contains(strings.ToLower(err.Error()), "requirement failed: ")
}
