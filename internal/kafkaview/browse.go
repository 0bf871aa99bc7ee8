package kafkaview

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// AllPartitions selects every partition of a topic in BrowseRequest and TailRequest.
const AllPartitions = -1

// Where a Browse starts.
const (
	// FromNewest returns the newest matches: Browse reads backwards from the end in growing windows.
	FromNewest = "newest"
	// FromOldest reads forwards from each partition's log start.
	FromOldest = "oldest"
	// FromOffset reads forwards from BrowseRequest.Offset (or Offsets) in each partition.
	FromOffset = "offset"
	// FromTimestamp reads forwards from each partition's first record at or after BrowseRequest.Timestamp.
	FromTimestamp = "timestamp"
)

// BrowseRequest says which records Browse returns.
type BrowseRequest struct {
	// Topic is the topic to read.
	Topic string
	// Partition is the partition to read, or AllPartitions (-1).
	Partition int32
	// From is FromNewest (the default when empty), FromOldest, FromOffset or FromTimestamp.
	From string
	// Offset is where FromOffset starts in each partition, clamped to the partition's log.
	Offset int64
	// Offsets, with FromOffset, overrides Offset per partition; pass a BrowseResult's Next to read the
	// records after that result.
	Offsets map[int32]int64
	// Timestamp is where FromTimestamp starts.
	Timestamp time.Time
	// Limit is how many records to return, 1 to MaxLimit; 0 means DefaultLimit.
	Limit int
	// Filter is a CEL expression over the record (see FilterVariables) that must be true for a record
	// to be returned; empty returns every record.
	Filter string
	// MaxScan is how many records Browse reads at most to find Limit matches, 1 to MaxMaxScan; 0 means
	// DefaultMaxScan.
	MaxScan int
}

// BrowseResult is what Browse found.
type BrowseResult struct {
	// Messages are the matches, oldest to newest: by timestamp across partitions, by offset within one.
	Messages []Message `json:"messages"`
	// Scanned is how many records were read (and filtered).
	Scanned int `json:"scanned"`
	// Truncated is set when Browse stopped at MaxScan before it could tell it had the Limit right
	// matches: fewer may be returned, and older (FromNewest) or newer ones may exist unread.
	Truncated bool `json:"truncated"`
	// Next is, per partition read, the offset to continue from with FromOffset (as Offsets) to get the
	// records after these: after the last returned or scanned record, or at the first match not
	// returned. For FromNewest it is the end of each partition when Browse started.
	Next map[int32]int64 `json:"next"`
}

// browsePart is one partition's state during a Browse.
type browsePart struct {
	id         int32
	start, end int64     // the log start and last stable offset when Browse started
	lo, hi     int64     // [lo, hi) has been read
	matches    []Message // the matches in [lo, hi), in offset order
	edgeTS     int64     // Unix ms of the record read last (forward) or first (backward)
	hasEdge    bool
	window     int64 // the last window read backwards
	stopped    bool  // MaxScan ran out while it could hold more
	taken      int   // matches picked: from the front (forward) or the back (backward)
}

func (p *browsePart) exhausted(backward bool) bool {
	if backward {
		return p.lo <= p.start
	}
	return p.hi >= p.end
}

// Browse returns up to Limit records of a topic that pass the filter, from where the request says,
// reading at most MaxScan records. See BrowseRequest and BrowseResult.
func (v *View) Browse(ctx context.Context, req BrowseRequest) (BrowseResult, error) {
	from, limit, maxScan, err := checkBrowse(&req)
	if err != nil {
		return BrowseResult{}, err
	}
	flt, err := compileFilter(v.filterEnv, req.Filter)
	if err != nil {
		return BrowseResult{}, err
	}
	rd, err := v.openReader(ctx, req.Topic)
	if err != nil {
		return BrowseResult{}, err
	}
	defer rd.close()
	ps, err := selectPartitions(rd.partitions(), req.Topic, req.Partition)
	if err != nil {
		return BrowseResult{}, err
	}
	for _, p := range slices.Sorted(maps.Keys(req.Offsets)) {
		switch {
		case slices.Contains(ps, p):
		case req.Partition == AllPartitions:
			return BrowseResult{}, inputErr("offsets", "topic %q has partitions 0 to %d, got an offset for partition %d", req.Topic, len(ps)-1, p)
		default:
			return BrowseResult{}, inputErr("offsets", "only partition %d is read, got an offset for partition %d", req.Partition, p)
		}
	}

	starts, err := rd.offsets(ctx, ps, tsEarliest)
	if err != nil {
		return BrowseResult{}, err
	}
	ends, err := rd.offsets(ctx, ps, tsLatest)
	if err != nil {
		return BrowseResult{}, err
	}
	var at map[int32]int64
	if from == FromTimestamp {
		// Negative timestamps are ListOffsets' special values (-1 is the end): before 1970 is the start.
		if at, err = rd.offsets(ctx, ps, max(0, req.Timestamp.UnixMilli())); err != nil {
			return BrowseResult{}, err
		}
	}
	parts := make([]*browsePart, 0, len(ps))
	for _, p := range ps {
		bp := &browsePart{id: p, start: starts[p], end: max(starts[p], ends[p])}
		var pos int64
		switch from {
		case FromNewest:
			pos = bp.end
		case FromOldest:
			pos = bp.start
		case FromOffset:
			pos = req.Offset
			if o, ok := req.Offsets[p]; ok {
				pos = o
			}
		case FromTimestamp:
			pos = at[p]
			if pos < 0 { // no record that new
				pos = bp.end
			}
		}
		bp.lo = min(max(pos, bp.start), bp.end)
		bp.hi = bp.lo
		parts = append(parts, bp)
	}

	b := &browser{rd: rd, flt: flt, limit: limit, budget: maxScan, parts: parts, backward: from == FromNewest}
	if err := b.run(ctx); err != nil {
		return BrowseResult{}, err
	}
	return b.result(), nil
}

// checkBrowse validates a request and returns its From, Limit and MaxScan with defaults applied.
func checkBrowse(req *BrowseRequest) (from string, limit, maxScan int, err error) {
	if err := checkTopicName("topic", req.Topic); err != nil {
		return "", 0, 0, err
	}
	if req.Partition < AllPartitions {
		return "", 0, 0, inputErr("partition", "expected a partition number >= 0, or -1 for all, got %d", req.Partition)
	}
	from = req.From
	switch from {
	case "":
		from = FromNewest
	case FromNewest, FromOldest:
	case FromOffset:
		if req.Offset < 0 {
			return "", 0, 0, inputErr("offset", "expected an offset >= 0, got %d", req.Offset)
		}
		for p, o := range req.Offsets {
			if o < 0 {
				return "", 0, 0, inputErr("offsets", "expected offsets >= 0, got %d for partition %d", o, p)
			}
		}
	case FromTimestamp:
		if req.Timestamp.IsZero() {
			return "", 0, 0, inputErr("timestamp", "expected a time to start from, got none")
		}
	default:
		return "", 0, 0, inputErr("from", "expected one of newest, oldest, offset, timestamp, got %q", req.From)
	}
	if len(req.Offsets) > 0 && from != FromOffset {
		return "", 0, 0, inputErr("offsets", "offsets apply only with from=offset, got from=%s", from)
	}
	limit = req.Limit
	if limit < 0 || limit > MaxLimit {
		return "", 0, 0, inputErr("limit", "expected an integer from 1 to %d, got %d", MaxLimit, limit)
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	maxScan = req.MaxScan
	if maxScan < 0 || maxScan > MaxMaxScan {
		return "", 0, 0, inputErr("max_scan", "expected an integer from 1 to %d, got %d", MaxMaxScan, maxScan)
	}
	if maxScan == 0 {
		maxScan = DefaultMaxScan
	}
	return from, limit, maxScan, nil
}

// selectPartitions returns the partitions a request reads: all, or the one it names if it exists.
func selectPartitions(all []int32, topic string, p int32) ([]int32, error) {
	if p == AllPartitions {
		return all, nil
	}
	if !slices.Contains(all, p) {
		return nil, inputErr("partition", "topic %q has partitions 0 to %d, got %d", topic, len(all)-1, p)
	}
	return []int32{p}, nil
}

// browser runs one Browse: it reads partitions in rounds and merges their matches until it has the
// Limit right ones, every partition is read, or the MaxScan budget is spent.
//
// Forwards, each round reads the partitions the merge is waiting for onwards, each until it holds Limit
// matches, its end, or its share of the budget. Backwards, each round reads a window before what was
// read, twice as large as the last one (the first is Limit records, so an unfiltered Browse reads one
// window). The merge takes the earliest (latest, backwards) match over the partitions; it waits for a
// partition that has no unread match but is not exhausted while that partition's last-read timestamp
// says it could still hold an earlier (later) one.
type browser struct {
	rd       *reader
	flt      *filter
	limit    int
	budget   int // records that may still be read
	scanned  int
	parts    []*browsePart
	backward bool

	picked    []Message
	truncated bool
}

func (b *browser) run(ctx context.Context) error {
	for {
		need := b.merge()
		if len(need) == 0 {
			return nil
		}
		if b.budget == 0 {
			b.truncated = true
			for _, p := range need {
				p.stopped = true
			}
			continue
		}
		var err error
		if b.backward {
			err = b.readBackward(ctx, need)
		} else {
			err = b.readForward(ctx, need)
		}
		if err != nil {
			return err
		}
	}
}

// merge picks up to limit matches and returns the partitions it must read more of before it can pick
// the next one; none when it is done.
func (b *browser) merge() []*browsePart {
	b.picked = b.picked[:0]
	for _, p := range b.parts {
		p.taken = 0
	}
	for len(b.picked) < b.limit {
		var best *browsePart
		var bestMsg Message
		for _, p := range b.parts {
			m, ok := b.head(p)
			if ok && (best == nil || b.before(m, bestMsg)) {
				best, bestMsg = p, m
			}
		}
		var need []*browsePart
		for _, p := range b.parts {
			if _, ok := b.head(p); ok || p.stopped || p.exhausted(b.backward) {
				continue
			}
			switch {
			case best == nil || !p.hasEdge:
				need = append(need, p)
			case !b.backward && p.edgeTS <= bestMsg.Timestamp.UnixMilli():
				need = append(need, p)
			case b.backward && p.edgeTS >= bestMsg.Timestamp.UnixMilli():
				need = append(need, p)
			}
		}
		if len(need) > 0 {
			return need
		}
		if best == nil {
			break
		}
		b.picked = append(b.picked, bestMsg)
		best.taken++
	}
	return nil
}

// head is the partition's next match to pick, if it holds one.
func (b *browser) head(p *browsePart) (Message, bool) {
	if p.taken >= len(p.matches) {
		return Message{}, false
	}
	if b.backward {
		return p.matches[len(p.matches)-1-p.taken], true
	}
	return p.matches[p.taken], true
}

// before reports whether m comes before best in pick order: earlier forwards, later backwards, with
// ties broken by partition.
func (b *browser) before(m, best Message) bool {
	if !m.Timestamp.Equal(best.Timestamp) {
		return m.Timestamp.Before(best.Timestamp) != b.backward
	}
	return (m.Partition < best.Partition) != b.backward
}

// visit counts a read record and appends it to matches if it passes the filter.
func (b *browser) visit(rec *kgo.Record, matches *[]Message) {
	b.scanned++
	b.budget--
	if b.flt.match(rec) {
		*matches = append(*matches, newMessage(rec))
	}
}

// readForward reads each partition in need onwards from where it stopped.
func (b *browser) readForward(ctx context.Context, need []*browsePart) error {
	if len(need) > b.budget {
		need = need[:b.budget] // a record each for the first ones; the others wait for a budget that is gone
	}
	share := max(1, b.budget/len(need))
	spans := make(map[int32]span, len(need))
	byID := make(map[int32]*browsePart, len(need))
	read := make(map[int32]int, len(need))
	for _, p := range need {
		spans[p.id] = span{p.hi, p.end}
		byID[p.id] = p
	}
	pos, err := b.rd.readSpans(ctx, spans, func(id int32, rec *kgo.Record) bool {
		p := byID[id]
		b.visit(rec, &p.matches)
		p.edgeTS, p.hasEdge = rec.Timestamp.UnixMilli(), true
		read[id]++
		return read[id] < share && b.budget > 0 && len(p.matches)-p.taken < b.limit
	})
	if err != nil {
		return err
	}
	for id, o := range pos {
		byID[id].hi = o
	}
	return nil
}

// readBackward reads, for each partition in need, the window before what it has read.
func (b *browser) readBackward(ctx context.Context, need []*browsePart) error {
	if len(need) > b.budget {
		need = need[:b.budget]
	}
	share := int64(max(1, b.budget/len(need)))
	spans := make(map[int32]span, len(need))
	byID := make(map[int32]*browsePart, len(need))
	found := make(map[int32][]Message, len(need))
	for _, p := range need {
		w := int64(b.limit)
		if p.window > 0 {
			w = 2 * p.window
		}
		w = min(w, share)
		p.window = w
		from := max(p.start, p.lo-w)
		spans[p.id] = span{from, p.lo}
		byID[p.id] = p
	}
	first := make(map[int32]bool, len(need))
	_, err := b.rd.readSpans(ctx, spans, func(id int32, rec *kgo.Record) bool {
		p := byID[id]
		m := found[id]
		b.visit(rec, &m)
		if len(m) >= 2*b.limit {
			m = slices.Delete(m, 0, len(m)-b.limit)
		}
		found[id] = m
		if !first[id] {
			first[id] = true
			p.edgeTS, p.hasEdge = rec.Timestamp.UnixMilli(), true
		}
		return true
	})
	if err != nil {
		return err
	}
	for id, s := range spans {
		p := byID[id]
		p.lo = s.from
		// Backwards, a partition gives the merge its latest matches and at most limit of them: keep
		// those, so that a large window full of matches does not fill memory.
		all := append(found[id], p.matches...)
		p.matches = all[max(0, len(all)-b.limit):]
	}
	return nil
}

// result returns the picked matches oldest first, with where to continue.
func (b *browser) result() BrowseResult {
	res := BrowseResult{Messages: slices.Clone(b.picked), Scanned: b.scanned, Truncated: b.truncated, Next: make(map[int32]int64, len(b.parts))}
	if b.backward {
		slices.Reverse(res.Messages)
	}
	if res.Messages == nil {
		res.Messages = []Message{}
	}
	for _, p := range b.parts {
		switch {
		case b.backward:
			res.Next[p.id] = p.end
		case p.taken < len(p.matches):
			res.Next[p.id] = p.matches[p.taken].Offset
		default:
			res.Next[p.id] = p.hi
		}
	}
	return res
}
