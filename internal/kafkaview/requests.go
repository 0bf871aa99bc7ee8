package kafkaview

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The Kafka requests the View makes, each built once here and answered as plain maps.

// ListOffsets timestamps and isolation levels.
const (
	tsEarliest = -2
	tsLatest   = -1

	readUncommitted int8 = 0
	readCommitted   int8 = 1
)

// tp names one partition of one topic.
type tp struct {
	t string
	p int32
}

// topicMeta is what a metadata response says about one topic.
type topicMeta struct {
	name     string
	id       [16]byte
	internal bool
	err      error         // the topic's error code, such as UNKNOWN_TOPIC_OR_PARTITION
	parts    []partMeta    // sorted by id
	byID     map[int32]int // index in parts
}

// partMeta is one partition of a metadata response.
type partMeta struct {
	id       int32
	leader   int32
	epoch    int32
	replicas []int32
	isr      []int32
	offline  []int32
	err      error
}

// replication is the topic's largest replica count.
func (m *topicMeta) replication() int {
	n := 0
	for _, p := range m.parts {
		n = max(n, len(p.replicas))
	}
	return n
}

// metadata asks for the named topics, or for every topic when topics is nil. It never creates topics.
func metadata(ctx context.Context, cl *kgo.Client, topics []string) (map[string]*topicMeta, error) {
	req := kmsg.NewPtrMetadataRequest()
	if topics != nil {
		req.Topics = make([]kmsg.MetadataRequestTopic, 0, len(topics))
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("requesting metadata: %w", err)
	}
	out := make(map[string]*topicMeta, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		m := &topicMeta{name: *t.Topic, id: t.TopicID, internal: t.IsInternal, err: kerr.ErrorForCode(t.ErrorCode)}
		m.parts = make([]partMeta, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			m.parts = append(m.parts, partMeta{
				id: p.Partition, leader: p.Leader, epoch: p.LeaderEpoch,
				replicas: p.Replicas, isr: p.ISR, offline: p.OfflineReplicas,
				err: kerr.ErrorForCode(p.ErrorCode),
			})
		}
		slices.SortFunc(m.parts, func(a, b partMeta) int { return int(a.id) - int(b.id) })
		m.byID = make(map[int32]int, len(m.parts))
		for i, p := range m.parts {
			m.byID[p.id] = i
		}
		out[m.name] = m
	}
	return out, nil
}

// topicMetadata asks for one topic; a topic Kafka does not know wraps ErrNotFound.
func topicMetadata(ctx context.Context, cl *kgo.Client, topic string) (*topicMeta, error) {
	ms, err := metadata(ctx, cl, []string{topic})
	if err != nil {
		return nil, err
	}
	m := ms[topic]
	switch {
	case m == nil, errors.Is(m.err, kerr.UnknownTopicOrPartition):
		return nil, fmt.Errorf("topic %q: %w", topic, ErrNotFound)
	case m.err != nil && len(m.parts) == 0:
		return nil, fmt.Errorf("topic %q: %w", topic, m.err)
	}
	return m, nil
}

// partOffsets is the answer of listOffsets: an offset per partition, or why there is none.
type partOffsets struct {
	off  map[tp]int64
	errs map[tp]error
}

// listOffsets asks the partitions' leaders for the offset at ts (tsEarliest, tsLatest or a Unix
// millisecond timestamp, answered with -1 when no record is that new) under the isolation level.
func listOffsets(ctx context.Context, cl *kgo.Client, parts map[string][]int32, ts int64, isolation int8) (partOffsets, error) {
	out := partOffsets{off: make(map[tp]int64), errs: make(map[tp]error)}
	if len(parts) == 0 {
		return out, nil
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	req.IsolationLevel = isolation
	for t, ps := range parts {
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = t
		for _, p := range ps {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition = p
			rp.Timestamp = ts
			rp.CurrentLeaderEpoch = -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	shards := cl.RequestSharded(ctx, req)
	for _, sh := range shards {
		if sh.Err != nil {
			for _, t := range sh.Req.(*kmsg.ListOffsetsRequest).Topics {
				for _, p := range t.Partitions {
					out.errs[tp{t.Topic, p.Partition}] = sh.Err
				}
			}
			continue
		}
		for _, t := range sh.Resp.(*kmsg.ListOffsetsResponse).Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					out.errs[tp{t.Topic, p.Partition}] = err
					continue
				}
				out.off[tp{t.Topic, p.Partition}] = p.Offset
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, nil
}

// logDirSizes asks every broker for the bytes of the partitions' logs and returns, per partition, its
// largest replica: the size of one copy. A broker that does not answer fails the whole call, since a
// partial size would look like a real one.
func logDirSizes(ctx context.Context, adm *kadm.Client, parts map[string][]int32) (map[tp]int64, error) {
	var set kadm.TopicsSet
	for t, ps := range parts {
		set.Add(t, ps...)
	}
	dirs, err := adm.DescribeAllLogDirs(ctx, set)
	if err != nil {
		return nil, fmt.Errorf("describing log dirs: %w", err)
	}
	sizes := make(map[tp]int64)
	for broker, ds := range dirs {
		if err := ds.Error(); err != nil {
			return nil, fmt.Errorf("describing log dirs on broker %d: %w", broker, err)
		}
		ds.EachPartition(func(d kadm.DescribedLogDirPartition) {
			if d.IsFuture {
				return
			}
			k := tp{d.Topic, d.Partition}
			sizes[k] = max(sizes[k], d.Size)
		})
	}
	return sizes, nil
}

// commits is what groups committed: group → topic → partition → next offset to consume.
type commits map[string]map[string]map[int32]int64

// fetchCommits asks the groups' coordinators for their committed offsets: for each group the given
// topics and partitions, or every topic the group committed to when topics is nil. Groups are batched
// into one request per coordinator. A group whose coordinator refuses is in errs.
func fetchCommits(ctx context.Context, cl *kgo.Client, groups []string, topics func(group string) map[string][]int32) (commits, map[string]error) {
	out := make(commits, len(groups))
	errs := make(map[string]error)
	if len(groups) == 0 {
		return out, errs
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	for _, g := range groups {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = g
		if topics != nil {
			ts := topics(g)
			rg.Topics = make([]kmsg.OffsetFetchRequestGroupTopic, 0, len(ts))
			for t, ps := range ts {
				rt := kmsg.NewOffsetFetchRequestGroupTopic()
				rt.Topic = t
				rt.Partitions = ps
				rg.Topics = append(rg.Topics, rt)
			}
			if len(rg.Topics) == 0 {
				continue // nothing to ask; an empty list would mean "all topics"
			}
		}
		req.Groups = append(req.Groups, rg)
	}
	if len(req.Groups) == 0 {
		return out, errs
	}
	for _, sh := range cl.RequestSharded(ctx, req) {
		if sh.Err != nil {
			for _, g := range sh.Req.(*kmsg.OffsetFetchRequest).Groups {
				errs[g.Group] = sh.Err
			}
			continue
		}
		for _, g := range sh.Resp.(*kmsg.OffsetFetchResponse).Groups {
			if err := kerr.ErrorForCode(g.ErrorCode); err != nil {
				errs[g.Group] = err
				continue
			}
			gm := make(map[string]map[int32]int64, len(g.Topics))
			for _, t := range g.Topics {
				for _, p := range t.Partitions {
					if p.ErrorCode != 0 || p.Offset < 0 {
						continue
					}
					if gm[t.Topic] == nil {
						gm[t.Topic] = make(map[int32]int64, len(t.Partitions))
					}
					gm[t.Topic][p.Partition] = p.Offset
				}
			}
			out[g.Group] = gm
		}
	}
	return out, errs
}

// lagOf is how far a commit trails an end offset; never negative (a commit can pass a stale end).
func lagOf(end, committed int64) int64 {
	return max(0, end-committed)
}
