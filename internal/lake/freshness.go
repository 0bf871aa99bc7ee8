package lake

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/apache/iceberg-go/table"
)

// PipelineProperty is the snapshot summary property naming the pipeline whose staging commit made a snapshot.
const PipelineProperty = "bigfather.pipeline"

// NewestEventProperty is the snapshot summary property holding the largest event time of the rows a staging
// commit added, in microseconds since the Unix epoch (absent when the table has no event-time column).
const NewestEventProperty = "bigfather.newest_event_us"

// freshnessLookback is how many of a pipeline's newest snapshots Freshness reads for the newest event time:
// late rows make a commit's newest event older than an earlier commit's.
const freshnessLookback = 32

// Freshness reads a table's history for a pipeline: when its newest staging commit landed (zero when none is
// in the history) and the largest event time among its newest commits (zero when none recorded one).
func Freshness(t *table.Table, pipeline string) (lastCommit, newestEvent time.Time) {
	snaps := t.Metadata().Snapshots()
	seen := 0
	var newest int64
	for i := len(snaps) - 1; i >= 0 && seen < freshnessLookback; i-- {
		s := snaps[i]
		if s.Summary == nil || s.Summary.Properties[PipelineProperty] != pipeline {
			continue
		}
		if at := time.UnixMilli(s.TimestampMs); at.After(lastCommit) {
			lastCommit = at
		}
		seen++
		if v, err := strconv.ParseInt(s.Summary.Properties[NewestEventProperty], 10, 64); err == nil && v > newest {
			newest = v
		}
	}
	if newest > 0 {
		newestEvent = time.UnixMicro(newest)
	}
	return lastCommit, newestEvent
}

// CoveredAt returns when the first of a table's commits for pipeline that stores a next offset past offset for
// tp landed: the moment the record at offset became part of the table. ok is false while no commit covers it.
// When the table's stored offset covers it but no snapshot records that commit (an offsets-only commit, or an
// expired snapshot), it returns the time of the table metadata's last update, an upper bound.
func CoveredAt(t *table.Table, pipeline string, tp TopicPartition, offset int64) (at time.Time, ok bool) {
	key, prop := tp.String(), SnapshotOffsetsPrefix+pipeline
	snaps := t.Metadata().Snapshots()
	for _, s := range snaps {
		if s.Summary == nil || s.Summary.Properties[prop] == "" {
			continue
		}
		var offs map[string]int64
		if json.Unmarshal([]byte(s.Summary.Properties[prop]), &offs) != nil {
			continue
		}
		if next, found := offs[key]; found && next > offset {
			return time.UnixMilli(s.TimestampMs), true
		}
	}
	if StoredOffsets(t, pipeline).Get(tp) > offset {
		// Stored by a commit that made no snapshot (offsets only: a batch of probes, of rejected or filtered
		// records), or whose snapshot expired: the metadata's last update is an upper bound.
		return time.UnixMilli(t.Metadata().LastUpdatedMillis()), true
	}
	return time.Time{}, false
}
