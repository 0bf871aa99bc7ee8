package kafkaview

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// tailWait is how long one tail fetch waits on the broker for new records.
const tailWait = time.Second

// TailRequest says which records Tail streams.
type TailRequest struct {
	// Topic is the topic to follow.
	Topic string
	// Partition is the partition to follow, or AllPartitions (-1).
	Partition int32
	// Filter is a CEL expression as in BrowseRequest; empty streams every record.
	Filter string
}

// Tail streams the records produced to a topic after it starts (from each partition's last stable
// offset) that pass the filter, calling emit for each from one goroutine, in offset order per
// partition. It returns nil when ctx ends and emit's error when emit fails; setup errors (unknown
// topic, bad partition or filter) come before any emit. Partitions added while it runs are not followed.
func (v *View) Tail(ctx context.Context, req TailRequest, emit func(Message) error) error {
	if err := checkTopicName("topic", req.Topic); err != nil {
		return err
	}
	if req.Partition < AllPartitions {
		return inputErr("partition", "expected a partition number >= 0, or -1 for all, got %d", req.Partition)
	}
	flt, err := compileFilter(v.filterEnv, req.Filter)
	if err != nil {
		return err
	}
	rd, err := v.openReader(ctx, req.Topic)
	if err != nil {
		return err
	}
	defer rd.close()
	ps, err := selectPartitions(rd.partitions(), req.Topic, req.Partition)
	if err != nil {
		return err
	}
	pos, err := rd.offsets(ctx, ps, tsLatest)
	if err != nil {
		return err
	}
	for {
		res, err := rd.fetch(ctx, pos, tailWait)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		for _, p := range slices.Sorted(maps.Keys(res)) {
			f := res[p]
			if f.err != nil {
				if !errors.Is(f.err, kerr.OffsetOutOfRange) {
					return fmt.Errorf("tailing topic %q partition %d at offset %d: %w", req.Topic, p, pos[p], f.err)
				}
				// Truncated or deleted under us: go on from the new end.
				ends, err := rd.offsets(ctx, []int32{p}, tsLatest)
				if err != nil {
					return err
				}
				pos[p] = ends[p]
				continue
			}
			for _, rec := range f.recs {
				if flt.match(rec) {
					if err := emit(newMessage(rec)); err != nil {
						return err
					}
				}
				pos[p] = rec.Offset + 1
			}
			pos[p] = max(pos[p], f.next)
		}
	}
}
