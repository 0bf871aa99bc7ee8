package lake

import (
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
