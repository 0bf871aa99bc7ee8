package kafkaview

import (
	"context"
	"time"
)

// RecordTimes returns the Kafka timestamp of the record at each partition's offset of topic: the first record
// at or after it (compaction and transaction markers leave holes). A partition with no record there yet is
// missing from the result. The monitor uses it for lag in seconds: the age of the oldest record not yet
// committed.
func (v *View) RecordTimes(ctx context.Context, topic string, offsets map[int32]int64) (map[int32]time.Time, error) {
	if len(offsets) == 0 {
		return map[int32]time.Time{}, nil
	}
	r, err := v.openReader(ctx, topic)
	if err != nil {
		return nil, err
	}
	defer r.close()
	got, err := r.fetch(ctx, offsets, 0)
	if err != nil {
		return nil, err
	}
	out := make(map[int32]time.Time, len(got))
	for p, f := range got {
		for _, rec := range f.recs {
			if rec.Offset >= offsets[p] {
				out[p] = rec.Timestamp
				break
			}
		}
	}
	return out, nil
}
