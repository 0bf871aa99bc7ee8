package kafkaview

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// setupCluster creates five topics and two groups:
//
//	alpha         1 partition, 3 records; g-admin committed 1 (lag 2)
//	beta          2 partitions, empty
//	Gamma.events  1 partition, empty
//	game.events   2 partitions, 4 + 3 records (p0 4, p1 3); g-live consumed the first 4 as a
//	              member (lag 3), g-admin committed p0 at 0 (lag 4)
//	orders        2 partitions, empty, retention.ms 3600000
func setupCluster(t *testing.T) *testBroker {
	t.Helper()
	tb := startBroker(t)
	retention := "3600000"
	tb.createTopic(t, "alpha", 1, nil)
	tb.createTopic(t, "beta", 2, nil)
	tb.createTopic(t, "Gamma.events", 1, nil)
	tb.createTopic(t, "game.events", 2, nil)
	tb.createTopic(t, "orders", 2, map[string]*string{"retention.ms": &retention})
	rec := func(topic string, p int32, v string) *kgo.Record {
		return &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}
	}
	tb.produce(t, rec("alpha", 0, "a0"), rec("alpha", 0, "a1"), rec("alpha", 0, "a2"),
		rec("game.events", 0, "g0"), rec("game.events", 0, "g1"), rec("game.events", 1, "g2"), rec("game.events", 1, "g3"))
	tb.consumeAndCommit(t, "g-live", "game.events", 4)
	tb.produce(t, rec("game.events", 0, "g4"), rec("game.events", 0, "g5"), rec("game.events", 1, "g6"))
	tb.commit(t, "g-admin", map[string]map[int32]int64{"alpha": {0: 1}, "game.events": {0: 0}})
	return tb
}

func names(items []TopicSummary) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func TestTopics(t *testing.T) {
	tb := setupCluster(t)
	v := tb.view(t)
	tests := []struct {
		name  string
		q     TopicQuery
		want  []string
		total int
	}{
		{"all", TopicQuery{}, []string{"Gamma.events", "alpha", "beta", "game.events", "orders"}, 5},
		{"search ignores case", TopicQuery{Search: "GAM"}, []string{"Gamma.events", "game.events"}, 2},
		{"page", TopicQuery{Offset: 1, Limit: 2}, []string{"alpha", "beta"}, 5},
		{"last page", TopicQuery{Offset: 4, Limit: 2}, []string{"orders"}, 5},
		{"past the end", TopicQuery{Offset: 9, Limit: 2}, []string{}, 5},
		{"no match", TopicQuery{Search: "zzz"}, []string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := v.Topics(ctxT(t), tt.q)
			if err != nil {
				t.Fatalf("Topics: %v", err)
			}
			if got := names(page.Items); !reflect.DeepEqual(got, tt.want) || page.Total != tt.total {
				t.Errorf("topics %q total %d, want %q total %d", got, page.Total, tt.want, tt.total)
			}
			if page.Warnings != nil {
				t.Errorf("warnings %q", page.Warnings)
			}
		})
	}

	page, err := v.Topics(ctxT(t), TopicQuery{})
	if err != nil {
		t.Fatalf("Topics: %v", err)
	}
	for i := range page.Items {
		it := &page.Items[i]
		if it.Size == nil {
			t.Fatalf("topic %s has no size", it.Name)
		}
		if (*it.Size > 0) != (it.Messages > 0) {
			t.Errorf("topic %s: size %d for %d messages", it.Name, *it.Size, it.Messages)
		}
		it.Size = nil
	}
	want := []TopicSummary{
		{Name: "Gamma.events", Partitions: 1, Replication: 1, Groups: []string{}},
		{Name: "alpha", Partitions: 1, Replication: 1, Messages: 3, Groups: []string{"g-admin"}, Lag: 2},
		{Name: "beta", Partitions: 2, Replication: 1, Groups: []string{}},
		{Name: "game.events", Partitions: 2, Replication: 1, Messages: 7, Groups: []string{"g-admin", "g-live"}, Lag: 4 + 3},
		{Name: "orders", Partitions: 2, Replication: 1, Groups: []string{}},
	}
	if !reflect.DeepEqual(page.Items, want) {
		t.Errorf("topics\n%+v\nwant\n%+v", page.Items, want)
	}
}

func TestTopicsBadPage(t *testing.T) {
	tb := startBroker(t)
	v := tb.view(t)
	for _, tt := range []struct {
		q     TopicQuery
		param string
		msg   string
	}{
		{TopicQuery{Offset: -1}, "offset", "offset: expected an integer >= 0, got -1"},
		{TopicQuery{Limit: 501}, "limit", "limit: expected an integer from 1 to 500, got 501"},
	} {
		_, err := v.Topics(ctxT(t), tt.q)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Param != tt.param || err.Error() != tt.msg {
			t.Errorf("Topics(%+v) error %v, want %s", tt.q, err, tt.msg)
		}
		_, err = v.Groups(ctxT(t), GroupQuery{Offset: tt.q.Offset, Limit: tt.q.Limit})
		if !errors.As(err, &ie) || ie.Param != tt.param || err.Error() != tt.msg {
			t.Errorf("Groups(%+v) error %v, want %s", tt.q, err, tt.msg)
		}
	}
}

func TestTopic(t *testing.T) {
	tb := setupCluster(t)
	v := tb.view(t)
	d, err := v.Topic(ctxT(t), "game.events")
	if err != nil {
		t.Fatalf("Topic: %v", err)
	}
	if d.Size == nil || *d.Size <= 0 {
		t.Errorf("size %v, want > 0", d.Size)
	}
	var sum int64
	for i := range d.PartitionDetails {
		pd := &d.PartitionDetails[i]
		if pd.Size == nil || *pd.Size <= 0 {
			t.Fatalf("partition %d size %v, want > 0", pd.Partition, pd.Size)
		}
		sum += *pd.Size
		pd.Size = nil
	}
	if d.Size != nil && *d.Size != sum {
		t.Errorf("topic size %d, want the partitions' sum %d", *d.Size, sum)
	}
	leader := d.PartitionDetails[0].Leader
	wantParts := []PartitionDetail{
		{Partition: 0, Leader: leader, Replicas: []int32{leader}, ISR: []int32{leader}, StartOffset: 0, EndOffset: 4, Messages: 4},
		{Partition: 1, Leader: leader, Replicas: []int32{leader}, ISR: []int32{leader}, StartOffset: 0, EndOffset: 3, Messages: 3},
	}
	if !reflect.DeepEqual(d.PartitionDetails, wantParts) {
		t.Errorf("partitions\n%+v\nwant\n%+v", d.PartitionDetails, wantParts)
	}
	wantGroups := []GroupLag{
		{Group: "g-admin", Lag: 4, Partitions: []PartitionLag{{Partition: 0, Committed: 0, End: 4, Lag: 4}}},
		{Group: "g-live", Lag: 3, Partitions: []PartitionLag{
			{Partition: 0, Committed: 2, End: 4, Lag: 2}, {Partition: 1, Committed: 2, End: 3, Lag: 1}}},
	}
	if !reflect.DeepEqual(d.GroupLags, wantGroups) {
		t.Errorf("group lags\n%+v\nwant\n%+v", d.GroupLags, wantGroups)
	}
	if d.Name != "game.events" || d.Partitions != 2 || d.Messages != 7 || d.Lag != 7 ||
		!reflect.DeepEqual(d.Groups, []string{"g-admin", "g-live"}) || d.Warnings != nil {
		t.Errorf("summary %+v", d.TopicSummary)
	}

	d, err = v.Topic(ctxT(t), "orders")
	if err != nil {
		t.Fatalf("Topic: %v", err)
	}
	var retention *TopicConfig
	for i, c := range d.Configs {
		if c.Name == "retention.ms" {
			retention = &d.Configs[i]
		}
	}
	if retention == nil || retention.Value == nil || *retention.Value != "3600000" || retention.Source != "DYNAMIC_TOPIC_CONFIG" {
		t.Errorf("retention.ms config %+v, want 3600000 from DYNAMIC_TOPIC_CONFIG", retention)
	}

	_, err = v.Topic(ctxT(t), "nope")
	if !errors.Is(err, ErrNotFound) || err.Error() != `topic "nope": not found` {
		t.Errorf("unknown topic: error %v, want ErrNotFound", err)
	}
	_, err = v.Topic(ctxT(t), "")
	var ie *InputError
	if !errors.As(err, &ie) || err.Error() != "topic: expected a topic name, got nothing" {
		t.Errorf("empty name: error %v", err)
	}
}

func TestGroups(t *testing.T) {
	tb := setupCluster(t)
	tb.commit(t, "other", map[string]map[int32]int64{"beta": {1: 0}})
	v := tb.view(t)
	live := GroupSummary{Name: "g-live", State: "Stable", ProtocolType: "consumer", Protocol: "cooperative-sticky",
		Members: 1, Topics: []string{"game.events"}, Lag: 3}
	admin := GroupSummary{Name: "g-admin", State: "Empty", Members: 0, Topics: []string{"alpha", "game.events"}, Lag: 2 + 4}
	other := GroupSummary{Name: "other", State: "Empty", Topics: []string{"beta"}}
	tests := []struct {
		name  string
		q     GroupQuery
		want  []GroupSummary
		total int
	}{
		{"all", GroupQuery{}, []GroupSummary{admin, live, other}, 3},
		{"search", GroupQuery{Search: "G-"}, []GroupSummary{admin, live}, 2},
		{"page", GroupQuery{Offset: 1, Limit: 1}, []GroupSummary{live}, 3},
		{"past the end", GroupQuery{Offset: 3}, []GroupSummary{}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := v.Groups(ctxT(t), tt.q)
			if err != nil {
				t.Fatalf("Groups: %v", err)
			}
			if !reflect.DeepEqual(page.Items, tt.want) || page.Total != tt.total {
				t.Errorf("groups total %d\n%+v\nwant total %d\n%+v", page.Total, page.Items, tt.total, tt.want)
			}
		})
	}
}

// TestGroupIndexRefresh: a group created after the index was built shows after RefreshGroups, or after
// GroupIndexMaxAge once a list call has started a background rebuild.
func TestGroupIndexRefresh(t *testing.T) {
	tb := startBroker(t)
	tb.createTopic(t, "t1", 1, nil)
	v := tb.view(t)
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	v.now = clock.Now
	groupsOf := func() []string {
		page, err := v.Topics(ctxT(t), TopicQuery{})
		if err != nil {
			t.Fatalf("Topics: %v", err)
		}
		return page.Items[0].Groups
	}
	if got := groupsOf(); len(got) != 0 {
		t.Fatalf("groups %q before any commit", got)
	}
	tb.commit(t, "g1", map[string]map[int32]int64{"t1": {0: 0}})
	if got := groupsOf(); len(got) != 0 {
		t.Errorf("groups %q from an index that should not have been rebuilt yet", got)
	}
	if err := v.RefreshGroups(ctxT(t)); err != nil {
		t.Fatalf("RefreshGroups: %v", err)
	}
	if got := groupsOf(); !reflect.DeepEqual(got, []string{"g1"}) {
		t.Errorf("groups %q after RefreshGroups, want [g1]", got)
	}

	tb.commit(t, "g2", map[string]map[int32]int64{"t1": {0: 0}})
	clock.Add(GroupIndexMaxAge - time.Second)
	if got := groupsOf(); !reflect.DeepEqual(got, []string{"g1"}) {
		t.Errorf("groups %q before the index is stale, want [g1]", got)
	}
	clock.Add(time.Second)
	waitFor(t, 10*time.Second, "the stale index to be rebuilt", func() bool {
		return reflect.DeepEqual(groupsOf(), []string{"g1", "g2"})
	})
}

func TestRecordsPerSec(t *testing.T) {
	tb := startBroker(t)
	tb.createTopic(t, "t1", 1, nil)
	v := tb.view(t)
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	v.now = clock.Now
	produce := func(n int) {
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: "t1", Value: []byte("x")}
		}
		tb.produce(t, recs...)
	}
	rate := func() float64 {
		page, err := v.Topics(ctxT(t), TopicQuery{})
		if err != nil {
			t.Fatalf("Topics: %v", err)
		}
		d, err := v.Topic(ctxT(t), "t1")
		if err != nil {
			t.Fatalf("Topic: %v", err)
		}
		if d.RecordsPerSec != page.Items[0].RecordsPerSec {
			t.Errorf("Topic says %v records/s, Topics %v", d.RecordsPerSec, page.Items[0].RecordsPerSec)
		}
		return page.Items[0].RecordsPerSec
	}
	steps := []struct {
		produce int
		advance time.Duration
		want    float64
	}{
		{0, 0, 0},                 // the first observation
		{50, 10 * time.Second, 5}, // 50 records in 10 s
		{10, 2 * time.Second, 5},  // too soon after the last: the last rate
		{0, 8 * time.Second, 1},   // 10 records in the 10 s since the second observation
		{0, 10 * time.Minute, 0},  // a base too old: start over
	}
	for i, s := range steps {
		produce(s.produce)
		clock.Add(s.advance)
		if got := rate(); got != s.want {
			t.Errorf("step %d: %v records/s, want %v", i, got, s.want)
		}
	}
}

func TestNewRefusesConsumers(t *testing.T) {
	tb := startBroker(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(tb.b.Addr()), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("t"))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer cl.Close()
	if _, err := New(cl); err == nil || err.Error() != `kafkaview: the client is a member of consumer group "g"; pass a client that does not consume` {
		t.Errorf("New with a group consumer: error %v", err)
	}
}
