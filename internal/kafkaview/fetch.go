package kafkaview

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch sizes: a partition answers at most partitionMaxBytes per request (Kafka still sends a larger
// first batch whole), a request at most fetchMaxBytes.
const (
	partitionMaxBytes = 1 << 20
	fetchMaxBytes     = 16 << 20
	fetchAttempts     = 5 // per fetch, when leaders move
	maxStalls         = 5 // fetches in a row that do not advance a partition before Browse gives up
)

// reader reads one topic's partitions with raw Fetch requests on a private client.
type reader struct {
	cl    *kgo.Client
	topic string

	mu   sync.Mutex // guards meta, refreshed when leaders move
	meta *topicMeta
}

// openReader makes a client from the View's client options and reads the topic's metadata. A topic
// Kafka does not know wraps ErrNotFound. The caller closes the reader.
func (v *View) openReader(ctx context.Context, topic string) (*reader, error) {
	cl, err := kgo.NewClient(v.opts...)
	if err != nil {
		return nil, fmt.Errorf("creating a Kafka client: %w", err)
	}
	m, err := topicMetadata(ctx, cl, topic)
	if err != nil {
		cl.Close()
		return nil, err
	}
	return &reader{cl: cl, topic: topic, meta: m}, nil
}

func (r *reader) close() { r.cl.Close() }

// partitions returns the topic's partition ids, sorted.
func (r *reader) partitions() []int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps := make([]int32, 0, len(r.meta.parts))
	for _, p := range r.meta.parts {
		ps = append(ps, p.id)
	}
	return ps
}

// offsets lists the partitions' offsets at ts under read_committed (tsLatest: the last stable offset).
func (r *reader) offsets(ctx context.Context, ps []int32, ts int64) (map[int32]int64, error) {
	res, err := listOffsets(ctx, r.cl, map[string][]int32{r.topic: ps}, ts, readCommitted)
	if err != nil {
		return nil, fmt.Errorf("listing offsets of topic %q: %w", r.topic, err)
	}
	out := make(map[int32]int64, len(ps))
	for _, p := range ps {
		if err := res.errs[tp{r.topic, p}]; err != nil {
			return nil, fmt.Errorf("listing offsets of topic %q partition %d: %w", r.topic, p, err)
		}
		o, ok := res.off[tp{r.topic, p}]
		if !ok {
			return nil, fmt.Errorf("listing offsets of topic %q partition %d: no answer", r.topic, p)
		}
		out[p] = o
	}
	return out, nil
}

// fetched is one partition's share of a fetch: its records from the asked offset on, and the offset to
// ask next (past every batch the response held, control batches included).
type fetched struct {
	recs []*kgo.Record
	next int64
	err  error // a partition error that is not about leadership, such as OffsetOutOfRange
}

// retriable reports whether a partition error means "ask again after reloading leaders".
func retriable(err error) bool {
	for _, e := range []error{
		kerr.NotLeaderForPartition, kerr.LeaderNotAvailable, kerr.FencedLeaderEpoch,
		kerr.UnknownLeaderEpoch, kerr.UnknownTopicID, kerr.ReplicaNotAvailable,
		kerr.KafkaStorageError, kerr.OffsetNotAvailable, kerr.NotCoordinator,
		kerr.UnknownTopicOrPartition, errNoLeader,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

var errNoLeader = errors.New("partition has no leader")

// fetch reads from each partition at its offset, one request per leader in parallel, waiting up to
// maxWait for data. Leadership errors reload the metadata and ask again, up to fetchAttempts times.
func (r *reader) fetch(ctx context.Context, pos map[int32]int64, maxWait time.Duration) (map[int32]fetched, error) {
	out := make(map[int32]fetched, len(pos))
	ask := pos
	for attempt := 1; ; attempt++ {
		retry := r.fetchOnce(ctx, ask, maxWait, out)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(retry) == 0 {
			return out, nil
		}
		if attempt == fetchAttempts {
			ps := slices.Sorted(maps.Keys(retry))
			return nil, fmt.Errorf("fetching topic %q partition %d: %w", r.topic, ps[0], retry[ps[0]])
		}
		select {
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		m, err := topicMetadata(ctx, r.cl, r.topic)
		if err != nil {
			return nil, fmt.Errorf("reloading the leaders of topic %q: %w", r.topic, err)
		}
		r.mu.Lock()
		r.meta = m
		r.mu.Unlock()
		ask = make(map[int32]int64, len(retry))
		for p := range retry {
			ask[p] = pos[p]
		}
	}
}

// fetchOnce sends one Fetch per leader and fills out; it returns the partitions to ask again.
func (r *reader) fetchOnce(ctx context.Context, pos map[int32]int64, maxWait time.Duration, out map[int32]fetched) map[int32]error {
	r.mu.Lock()
	m := r.meta
	r.mu.Unlock()
	retry := make(map[int32]error)
	byLeader := make(map[int32][]int32)
	for p := range pos {
		i, ok := m.byID[p]
		switch {
		case !ok:
			retry[p] = kerr.UnknownTopicOrPartition
		case m.parts[i].leader < 0:
			retry[p] = errNoLeader
		default:
			byLeader[m.parts[i].leader] = append(byLeader[m.parts[i].leader], p)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for leader, ps := range byLeader {
		slices.Sort(ps)
		wg.Go(func() {
			res, err := r.fetchFrom(ctx, m, leader, ps, pos, maxWait)
			mu.Lock()
			defer mu.Unlock()
			for _, p := range ps {
				f, ok := res[p]
				switch {
				case err != nil:
					retry[p] = err
				case !ok:
					retry[p] = fmt.Errorf("broker %d did not answer for it", leader)
				case retriable(f.err):
					retry[p] = f.err
				default:
					out[p] = f
				}
			}
		})
	}
	wg.Wait()
	return retry
}

// fetchFrom sends one Fetch request to a leader for its partitions.
func (r *reader) fetchFrom(ctx context.Context, m *topicMeta, leader int32, ps []int32, pos map[int32]int64, maxWait time.Duration) (map[int32]fetched, error) {
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = int32(maxWait / time.Millisecond)
	req.MinBytes = 1
	req.MaxBytes = fetchMaxBytes
	req.IsolationLevel = readCommitted
	req.SessionID = 0
	req.SessionEpoch = -1 // no fetch session: a full fetch each time
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = r.topic // below v13
	rt.TopicID = m.id  // v13 and up
	for _, p := range ps {
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = p
		rp.FetchOffset = pos[p]
		rp.PartitionMaxBytes = partitionMaxBytes
		rp.CurrentLeaderEpoch = m.parts[m.byID[p]].epoch
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	kresp, err := r.cl.Broker(int(leader)).Request(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := kresp.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, err
	}
	out := make(map[int32]fetched, len(ps))
	for i := range resp.Topics {
		t := &resp.Topics[i]
		if t.Topic != r.topic && t.TopicID != m.id {
			continue
		}
		for j := range t.Partitions {
			rp := &t.Partitions[j]
			o, asked := pos[rp.Partition]
			if !asked {
				continue
			}
			fp, next := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
				Offset:         o,
				IsolationLevel: kgo.ReadCommitted(),
				Topic:          r.topic,
				Partition:      rp.Partition,
			}, rp, kgo.DefaultDecompressor(), nil)
			out[rp.Partition] = fetched{recs: fp.Records, next: next, err: fp.Err}
		}
	}
	return out, nil
}

// span is a range of offsets [from, to) of one partition.
type span struct{ from, to int64 }

// readSpans reads each partition's span in offset order, calling visit with every record in it until
// visit returns false (that record was the last wanted) or the span ends. It returns, per partition,
// the offset after the last record visited or skipped: the span's end when it was read through.
// Records deleted by retention while reading are skipped.
func (r *reader) readSpans(ctx context.Context, spans map[int32]span, visit func(p int32, rec *kgo.Record) bool) (map[int32]int64, error) {
	pos := make(map[int32]int64, len(spans))
	active := make(map[int32]int64)
	for p, s := range spans {
		pos[p] = s.from
		if s.from < s.to {
			active[p] = s.from
		}
	}
	stalls := make(map[int32]int)
	for len(active) > 0 {
		res, err := r.fetch(ctx, active, 200*time.Millisecond)
		if err != nil {
			return nil, err
		}
		for _, p := range slices.Sorted(maps.Keys(active)) {
			f := res[p]
			to := spans[p].to
			if f.err != nil {
				if !errors.Is(f.err, kerr.OffsetOutOfRange) {
					return nil, fmt.Errorf("fetching topic %q partition %d at offset %d: %w", r.topic, p, pos[p], f.err)
				}
				// Retention deleted what we were to read: go on from the new log start.
				starts, err := r.offsets(ctx, []int32{p}, tsEarliest)
				if err != nil {
					return nil, err
				}
				if starts[p] <= pos[p] {
					return nil, fmt.Errorf("fetching topic %q partition %d at offset %d: %w (log start %d)", r.topic, p, pos[p], f.err, starts[p])
				}
				pos[p] = min(starts[p], to)
				if pos[p] >= to {
					delete(active, p)
				} else {
					active[p] = pos[p]
				}
				continue
			}
			before, stopped := pos[p], false
			for _, rec := range f.recs {
				if rec.Offset >= to {
					pos[p] = to
					break
				}
				pos[p] = rec.Offset + 1
				if !visit(p, rec) {
					stopped = true
					break
				}
			}
			if !stopped {
				pos[p] = max(pos[p], min(f.next, to))
			}
			switch {
			case stopped || pos[p] >= to:
				delete(active, p)
			case pos[p] == before:
				if stalls[p]++; stalls[p] >= maxStalls {
					return nil, fmt.Errorf("fetching topic %q partition %d: no progress at offset %d (end %d)", r.topic, p, pos[p], to)
				}
			default:
				stalls[p] = 0
				active[p] = pos[p]
			}
		}
	}
	return pos, nil
}
