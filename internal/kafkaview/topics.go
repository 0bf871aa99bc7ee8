package kafkaview

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
)

// TopicQuery selects a page of topics.
type TopicQuery struct {
	// Search keeps the topics whose name contains it, ignoring case; empty keeps all.
	Search string
	// Offset is the index of the page's first topic in the sorted, searched list.
	Offset int
	// Limit is the page size, 1 to MaxLimit; 0 means DefaultLimit.
	Limit int
	// Internal includes Kafka's internal topics (__consumer_offsets, __transaction_state).
	Internal bool
}

// TopicPage is one page of topics, sorted by name.
type TopicPage struct {
	Items []TopicSummary `json:"items"`
	// Total is how many topics match the search.
	Total int `json:"total"`
	// Warnings say what the page lacks and why, such as consumer groups Kafka would not list.
	Warnings []string `json:"warnings,omitempty"`
}

// TopicSummary is one topic of a TopicPage.
type TopicSummary struct {
	Name     string `json:"name"`
	Internal bool   `json:"internal,omitempty"`
	// Partitions is the partition count.
	Partitions int `json:"partitions"`
	// Replication is the largest replica count of its partitions.
	Replication int `json:"replication"`
	// Messages is the sum over partitions of end offset minus start offset (an upper bound on compacted
	// topics).
	Messages int64 `json:"messages"`
	// Size is the bytes of one copy of the topic's logs (each partition's largest replica), nil when the
	// brokers do not say.
	Size *int64 `json:"size,omitempty"`
	// RecordsPerSec is how fast the end offsets grew between two observations at least RateMinInterval
	// apart; 0 until the View has made them (the second list call that shows the topic, 5 s later).
	RecordsPerSec float64 `json:"records_per_sec"`
	// Groups are the consumer groups with commits on the topic or members assigned to it, sorted, from
	// the group index (at most GroupIndexMaxAge old).
	Groups []string `json:"groups"`
	// Lag is the sum over Groups and partitions of end offset minus the group's committed offset.
	Lag int64 `json:"lag"`
}

// Topics returns a page of topics: one metadata request for every name, then offsets, sizes and group
// commits for the page's topics only.
func (v *View) Topics(ctx context.Context, q TopicQuery) (TopicPage, error) {
	limit, err := checkPage(q.Offset, q.Limit)
	if err != nil {
		return TopicPage{}, err
	}
	all, err := metadata(ctx, v.cl, nil)
	if err != nil {
		return TopicPage{}, fmt.Errorf("listing topics: %w", err)
	}
	search := strings.ToLower(q.Search)
	names := make([]string, 0, len(all))
	for name, m := range all {
		if (q.Internal || !m.internal) && (search == "" || strings.Contains(strings.ToLower(name), search)) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	lo, hi := pageBounds(len(names), q.Offset, limit)
	page := TopicPage{Total: len(names), Items: make([]TopicSummary, 0, hi-lo)}
	names = names[lo:hi]
	if len(names) == 0 {
		return page, nil
	}

	parts := make(map[string][]int32, len(names))
	for _, name := range names {
		for _, p := range all[name].parts {
			parts[name] = append(parts[name], p.id)
		}
	}
	st, err := v.topicStats(ctx, parts)
	if err != nil {
		return TopicPage{}, err
	}
	page.Warnings = st.warnings
	for _, name := range names {
		m := all[name]
		s := TopicSummary{
			Name: name, Internal: m.internal, Partitions: len(m.parts), Replication: m.replication(),
			RecordsPerSec: st.rates[name], Groups: st.groups[name],
		}
		if s.Groups == nil {
			s.Groups = []string{}
		}
		var size int64
		sized := st.sizes != nil
		for _, p := range parts[name] {
			k := tp{name, p}
			start, ok1 := st.starts.off[k]
			end, ok2 := st.ends.off[k]
			if ok1 && ok2 {
				s.Messages += max(0, end-start)
			}
			if sz, ok := st.sizes[k]; ok {
				size += sz
			} else {
				sized = false
			}
			if ok2 {
				for _, g := range s.Groups {
					if c, ok := st.commits[g][name][p]; ok {
						s.Lag += lagOf(end, c)
					}
				}
			}
		}
		if sized {
			s.Size = &size
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
}

// topicStats is what Topics and Topic learn about some topics' partitions.
type topicStats struct {
	starts, ends partOffsets
	sizes        map[tp]int64 // nil when the brokers would not say
	rates        map[string]float64
	groups       map[string][]string // topic → groups, for these topics only
	commits      commits             // of those groups, on these topics only
	warnings     []string
}

// topicStats asks, in parallel, for the partitions' start and end offsets, their log sizes, and the
// commits of the groups the index names for the topics. Only the offsets are essential: missing sizes
// or groups become warnings.
func (v *View) topicStats(ctx context.Context, parts map[string][]int32) (topicStats, error) {
	var st topicStats
	var sizeErr, groupErr error
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		if st.starts, err = listOffsets(ectx, v.cl, parts, tsEarliest, readUncommitted); err != nil {
			return fmt.Errorf("listing start offsets: %w", err)
		}
		return nil
	})
	eg.Go(func() error {
		var err error
		if st.ends, err = listOffsets(ectx, v.cl, parts, tsLatest, readUncommitted); err != nil {
			return fmt.Errorf("listing end offsets: %w", err)
		}
		return nil
	})
	eg.Go(func() error {
		st.sizes, sizeErr = logDirSizes(ectx, v.adm, parts)
		return nil
	})
	eg.Go(func() error {
		index, err := v.groupsByTopic(ectx)
		if err != nil {
			groupErr = err
			return nil
		}
		st.groups = make(map[string][]string)
		byGroup := make(map[string]map[string][]int32)
		for t, ps := range parts {
			for _, g := range index[t] {
				st.groups[t] = append(st.groups[t], g)
				if byGroup[g] == nil {
					byGroup[g] = make(map[string][]int32)
				}
				byGroup[g][t] = ps
			}
		}
		var errs map[string]error
		groups := make([]string, 0, len(byGroup))
		for g := range byGroup {
			groups = append(groups, g)
		}
		slices.Sort(groups)
		st.commits, errs = fetchCommits(ectx, v.cl, groups, func(g string) map[string][]int32 { return byGroup[g] })
		for _, g := range groups {
			if err := errs[g]; err != nil {
				st.warnings = append(st.warnings, fmt.Sprintf("the lag of group %q is missing: %v", g, err))
			}
		}
		return nil
	})
	if err := eg.Wait(); err != nil {
		return topicStats{}, err
	}
	if sizeErr != nil {
		v.log.Debug("topic sizes unavailable", "err", sizeErr)
		st.sizes = nil
	}
	if groupErr != nil {
		st.warnings = append(st.warnings, fmt.Sprintf("consumer groups are missing: %v", groupErr))
	}
	if n := len(st.ends.errs) + len(st.starts.errs); n > 0 {
		st.warnings = append(st.warnings, fmt.Sprintf("%d partition offsets are missing (messages and lag count without them): their leaders do not answer", n))
	}
	ends := make(map[string]int64, len(parts))
	for t, ps := range parts {
		var sum int64
		complete := true
		for _, p := range ps {
			e, ok := st.ends.off[tp{t, p}]
			complete = complete && ok
			sum += e
		}
		if complete {
			ends[t] = sum
		}
	}
	st.rates = v.rates.observe(v.now(), ends)
	return st, nil
}

// TopicDetail is everything the topic page shows about one topic.
type TopicDetail struct {
	TopicSummary
	// PartitionDetails are the topic's partitions, by id.
	PartitionDetails []PartitionDetail `json:"partition_details"`
	// Configs are the topic's configuration entries by name; sensitive values are nil.
	Configs []TopicConfig `json:"configs"`
	// GroupLags are the consumer groups of the topic with their lag per partition, by name.
	GroupLags []GroupLag `json:"group_lags"`
	// Warnings say what the detail lacks and why.
	Warnings []string `json:"warnings,omitempty"`
}

// PartitionDetail is one partition of a TopicDetail. Offsets are -1 when its leader does not answer.
type PartitionDetail struct {
	Partition int32   `json:"partition"`
	Leader    int32   `json:"leader"`
	Replicas  []int32 `json:"replicas"`
	ISR       []int32 `json:"isr"`
	// StartOffset is the first offset still in the log.
	StartOffset int64 `json:"start_offset"`
	// EndOffset is the high watermark: the offset the next record will get.
	EndOffset int64 `json:"end_offset"`
	// Messages is EndOffset minus StartOffset.
	Messages int64 `json:"messages"`
	// Size is the bytes of the partition's largest replica, nil when the brokers do not say.
	Size *int64 `json:"size,omitempty"`
}

// TopicConfig is one configuration entry of a topic.
type TopicConfig struct {
	Name string `json:"name"`
	// Value is nil when Kafka withholds it (Sensitive) or has none.
	Value *string `json:"value"`
	// Source says where the value comes from, as Kafka names it (DEFAULT_CONFIG, DYNAMIC_TOPIC_CONFIG, ...).
	Source    string `json:"source"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// GroupLag is one consumer group of a TopicDetail.
type GroupLag struct {
	Group string `json:"group"`
	// Lag is the sum of Partitions' lag.
	Lag int64 `json:"lag"`
	// Partitions are the partitions the group committed on, by id.
	Partitions []PartitionLag `json:"partitions"`
}

// PartitionLag is a group's position on one partition.
type PartitionLag struct {
	Partition int32 `json:"partition"`
	// Committed is the group's committed offset: the next record it will read.
	Committed int64 `json:"committed"`
	// End is the partition's high watermark, -1 when its leader does not answer.
	End int64 `json:"end"`
	// Lag is End minus Committed, at least 0.
	Lag int64 `json:"lag"`
}

// Topic describes one topic. A topic Kafka does not know wraps ErrNotFound.
func (v *View) Topic(ctx context.Context, name string) (TopicDetail, error) {
	if err := checkTopicName("topic", name); err != nil {
		return TopicDetail{}, err
	}
	m, err := topicMetadata(ctx, v.cl, name)
	if err != nil {
		return TopicDetail{}, err
	}
	parts := map[string][]int32{name: make([]int32, 0, len(m.parts))}
	for _, p := range m.parts {
		parts[name] = append(parts[name], p.id)
	}
	var (
		st       topicStats
		configs  []TopicConfig
		warnings []string
	)
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		st, err = v.topicStats(ectx, parts)
		return err
	})
	eg.Go(func() error {
		rcs, err := v.adm.DescribeTopicConfigs(ectx, name)
		if err == nil && len(rcs) == 1 {
			err = rcs[0].Err
		}
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("configs are missing: %v", err))
			return nil
		}
		for _, c := range rcs[0].Configs {
			tc := TopicConfig{Name: c.Key, Value: c.Value, Source: c.Source.String(), Sensitive: c.Sensitive}
			if c.Sensitive {
				tc.Value = nil
			}
			configs = append(configs, tc)
		}
		slices.SortFunc(configs, func(a, b TopicConfig) int { return strings.Compare(a.Name, b.Name) })
		return nil
	})
	if err := eg.Wait(); err != nil {
		return TopicDetail{}, err
	}

	d := TopicDetail{
		TopicSummary: TopicSummary{
			Name: name, Internal: m.internal, Partitions: len(m.parts), Replication: m.replication(),
			RecordsPerSec: st.rates[name], Groups: st.groups[name],
		},
		Configs:  configs,
		Warnings: append(st.warnings, warnings...),
	}
	if d.Groups == nil {
		d.Groups = []string{}
	}
	if d.Configs == nil {
		d.Configs = []TopicConfig{}
	}
	var size int64
	sized := st.sizes != nil
	for _, p := range m.parts {
		k := tp{name, p.id}
		pd := PartitionDetail{Partition: p.id, Leader: p.leader, Replicas: orEmpty(p.replicas), ISR: orEmpty(p.isr), StartOffset: -1, EndOffset: -1}
		start, ok1 := st.starts.off[k]
		end, ok2 := st.ends.off[k]
		if ok1 {
			pd.StartOffset = start
		}
		if ok2 {
			pd.EndOffset = end
		}
		if ok1 && ok2 {
			pd.Messages = max(0, end-start)
			d.Messages += pd.Messages
		}
		if sz, ok := st.sizes[k]; ok {
			pd.Size = &sz
			size += sz
		} else {
			sized = false
		}
		d.PartitionDetails = append(d.PartitionDetails, pd)
	}
	if sized {
		d.Size = &size
	}
	d.GroupLags = make([]GroupLag, 0, len(d.Groups))
	for _, g := range d.Groups {
		gl := GroupLag{Group: g, Partitions: []PartitionLag{}}
		for _, p := range m.parts {
			c, ok := st.commits[g][name][p.id]
			if !ok {
				continue
			}
			pl := PartitionLag{Partition: p.id, Committed: c, End: -1}
			if end, ok := st.ends.off[tp{name, p.id}]; ok {
				pl.End, pl.Lag = end, lagOf(end, c)
			}
			gl.Lag += pl.Lag
			gl.Partitions = append(gl.Partitions, pl)
		}
		d.Lag += gl.Lag
		d.GroupLags = append(d.GroupLags, gl)
	}
	return d, nil
}

func orEmpty(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}
