package kafkaview

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// GroupQuery selects a page of consumer groups.
type GroupQuery struct {
	// Search keeps the groups whose name contains it, ignoring case; empty keeps all.
	Search string
	// Offset is the index of the page's first group in the sorted, searched list.
	Offset int
	// Limit is the page size, 1 to MaxLimit; 0 means DefaultLimit.
	Limit int
}

// GroupPage is one page of consumer groups, sorted by name.
type GroupPage struct {
	Items []GroupSummary `json:"items"`
	// Total is how many groups match the search.
	Total int `json:"total"`
	// Warnings say what the page lacks and why, such as a group whose coordinator does not answer.
	Warnings []string `json:"warnings,omitempty"`
}

// GroupSummary is one consumer group of a GroupPage.
type GroupSummary struct {
	Name string `json:"name"`
	// State is the group's state as Kafka names it (Stable, Empty, PreparingRebalance, Dead, ...).
	State string `json:"state"`
	// ProtocolType is "consumer" for consumers, "connect" for Kafka Connect workers.
	ProtocolType string `json:"protocol_type"`
	// Protocol is the partition assignor the members agreed on (range, cooperative-sticky, ...);
	// empty without members.
	Protocol string `json:"protocol"`
	// Members is how many members the group has.
	Members int `json:"members"`
	// Topics are the topics the group committed offsets on or its members are assigned, sorted.
	Topics []string `json:"topics"`
	// Lag is the sum over the partitions with a committed offset of end offset minus commit.
	Lag int64 `json:"lag"`
}

// Groups returns a page of consumer groups: one ListGroups request for the names, then a
// description, commits and end offsets for the page's groups only.
func (v *View) Groups(ctx context.Context, q GroupQuery) (GroupPage, error) {
	limit, err := checkPage(q.Offset, q.Limit)
	if err != nil {
		return GroupPage{}, err
	}
	listed, err := v.adm.ListGroups(ctx)
	if err != nil {
		return GroupPage{}, fmt.Errorf("listing consumer groups: %w", err)
	}
	search := strings.ToLower(q.Search)
	names := make([]string, 0, len(listed))
	for name := range listed {
		if search == "" || strings.Contains(strings.ToLower(name), search) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	lo, hi := pageBounds(len(names), q.Offset, limit)
	page := GroupPage{Total: len(names), Items: make([]GroupSummary, 0, hi-lo)}
	names = names[lo:hi]
	if len(names) == 0 {
		return page, nil
	}

	var (
		described   map[string]groupDesc
		describeErr error
		committed   commits
		cerrs       map[string]error
	)
	var wg sync.WaitGroup
	wg.Go(func() { described, describeErr = v.describeGroups(ctx, names) })
	wg.Go(func() { committed, cerrs = fetchCommits(ctx, v.cl, names, nil) })
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return GroupPage{}, err
	}
	if describeErr != nil {
		page.Warnings = append(page.Warnings, fmt.Sprintf("members and states are missing: %v", describeErr))
	}
	for _, g := range names {
		if err := cerrs[g]; err != nil {
			page.Warnings = append(page.Warnings, fmt.Sprintf("the topics and lag of group %q are missing: %v", g, err))
		}
	}

	parts := make(map[string][]int32)
	for _, gm := range committed {
		for t, ps := range gm {
			for p := range ps {
				parts[t] = append(parts[t], p)
			}
		}
	}
	for t, ps := range parts {
		slices.Sort(ps)
		parts[t] = slices.Compact(ps)
	}
	ends, err := listOffsets(ctx, v.cl, parts, tsLatest, readUncommitted)
	if err != nil {
		return GroupPage{}, fmt.Errorf("listing end offsets: %w", err)
	}
	if len(ends.errs) > 0 {
		page.Warnings = append(page.Warnings, fmt.Sprintf("the lag of %d partitions is missing: their leaders do not answer", len(ends.errs)))
	}

	for _, name := range names {
		l := listed[name]
		s := GroupSummary{Name: name, State: l.State, ProtocolType: l.ProtocolType, Topics: []string{}}
		topics := make(map[string]bool)
		if d, ok := described[name]; ok {
			s.State, s.Protocol, s.Members = d.state, d.protocol, d.members
			for _, t := range d.topics {
				topics[t] = true
			}
		}
		for t, ps := range committed[name] {
			topics[t] = true
			for p, c := range ps {
				if end, ok := ends.off[tp{t, p}]; ok {
					s.Lag += lagOf(end, c)
				}
			}
		}
		s.Topics = slices.Sorted(maps.Keys(topics))
		if s.Topics == nil {
			s.Topics = []string{}
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
}

// groupDesc is what DescribeGroups says about one group.
type groupDesc struct {
	state, protocol string
	members         int
	topics          []string // assigned to members
}

// describeGroups describes the groups in one request per coordinator.
func (v *View) describeGroups(ctx context.Context, names []string) (map[string]groupDesc, error) {
	ds, err := v.adm.DescribeGroups(ctx, names...)
	if err != nil && len(ds) == 0 {
		return nil, fmt.Errorf("describing consumer groups: %w", err)
	}
	out := make(map[string]groupDesc, len(ds))
	for name, d := range ds {
		if d.Err != nil {
			continue
		}
		out[name] = groupDesc{
			state: d.State, protocol: d.Protocol, members: len(d.Members),
			topics: d.AssignedPartitions().Topics(),
		}
	}
	return out, nil
}

// groupIndex is the View's cached answer to "which groups read topic t": the groups with a committed
// offset on t or a member assigned one of its partitions. Building it asks for every group's commits, so
// it is rebuilt in the background at most every GroupIndexMaxAge and never twice at once.
type groupIndex struct {
	mu       sync.Mutex
	byTopic  map[string][]string // sorted group names
	builtAt  time.Time           // zero until the first build succeeds
	tried    time.Time           // the last build's end, successful or not
	err      error               // the last build's error, nil after a success
	building chan struct{}       // closed when the running build ends; nil when none runs
}

// groupsByTopic returns the index, starting a rebuild when it is older than GroupIndexMaxAge. The first
// call waits for the first build; later calls answer from the old index while a rebuild runs. When no
// build has succeeded, it returns the last build's error.
func (v *View) groupsByTopic(ctx context.Context) (map[string][]string, error) {
	ix := v.groups
	ix.mu.Lock()
	now := v.now()
	if ix.building == nil && (ix.tried.IsZero() || now.Sub(ix.tried) >= GroupIndexMaxAge) {
		v.startIndexBuild()
	}
	building := ix.building
	m, builtAt, err := ix.byTopic, ix.builtAt, ix.err
	ix.mu.Unlock()
	if !builtAt.IsZero() {
		return m, nil
	}
	if building == nil {
		return nil, err
	}
	select {
	case <-building:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.builtAt.IsZero() {
		return nil, ix.err
	}
	return ix.byTopic, nil
}

// RefreshGroups rebuilds the group index now (or waits for the rebuild already running), so that groups
// created since the last build show on the topic pages.
func (v *View) RefreshGroups(ctx context.Context) error {
	ix := v.groups
	ix.mu.Lock()
	if ix.building == nil {
		v.startIndexBuild()
	}
	building := ix.building
	ix.mu.Unlock()
	select {
	case <-building:
	case <-ctx.Done():
		return ctx.Err()
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.err
}

// startIndexBuild starts a build under the View's lifetime; ix.mu must be held. After Close it records
// errClosed instead.
func (v *View) startIndexBuild() {
	ix := v.groups
	done := make(chan struct{})
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		ix.err, ix.tried = errClosed, v.now()
		return
	}
	ix.building = done
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		ctx, cancel := context.WithTimeout(v.ctx, 2*GroupIndexMaxAge)
		m, err := v.buildIndex(ctx)
		cancel()
		ix.mu.Lock()
		defer ix.mu.Unlock()
		ix.tried = v.now()
		if err != nil {
			ix.err = err
			v.log.Warn("building the consumer group index failed", "err", err)
		} else {
			ix.byTopic, ix.builtAt, ix.err = m, ix.tried, nil
		}
		ix.building = nil
		close(done)
	}()
}

// buildIndex lists every group, fetches all their commits and describes them (each a request per
// coordinator), and inverts that into topic → groups. Groups that cannot be read are left out.
func (v *View) buildIndex(ctx context.Context) (map[string][]string, error) {
	listed, err := v.adm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing consumer groups: %w", err)
	}
	names := slices.Sorted(maps.Keys(listed))
	var (
		described map[string]groupDesc
		committed commits
		cerrs     map[string]error
	)
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		described, err = v.describeGroups(ectx, names)
		return err
	})
	eg.Go(func() error {
		committed, cerrs = fetchCommits(ectx, v.cl, names, nil)
		return nil
	})
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if len(names) > 0 && len(cerrs) == len(names) {
		for _, err := range cerrs {
			return nil, fmt.Errorf("fetching consumer group commits: %w", err)
		}
	}
	sets := make(map[string]map[string]bool)
	add := func(t, g string) {
		if sets[t] == nil {
			sets[t] = make(map[string]bool)
		}
		sets[t][g] = true
	}
	for g, gm := range committed {
		for t := range gm {
			add(t, g)
		}
	}
	for g, d := range described {
		for _, t := range d.topics {
			add(t, g)
		}
	}
	out := make(map[string][]string, len(sets))
	for t, gs := range sets {
		out[t] = slices.Sorted(maps.Keys(gs))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("building the consumer group index: %w", err)
	}
	return out, nil
}
