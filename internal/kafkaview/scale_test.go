package kafkaview

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// The scale the console's lists must serve within a second.
const (
	scaleTopics          = 2000
	scalePartitions      = 2
	scaleGroups          = 500
	scaleTopicsPerGroup  = 4
	scaleCreateBatchSize = 500
)

func scaleTopic(i int) string { return fmt.Sprintf("scale.topic-%04d", i) }
func scaleGroup(i int) string { return fmt.Sprintf("scale-group-%03d", i) }

// setupScale creates scaleTopics topics (in CreateTopics requests of scaleCreateBatchSize) and
// scaleGroups groups, group i committing offset 0 on every partition of topics 4i to 4i+3.
func setupScale(tb testing.TB) *testBroker {
	tb.Helper()
	start := time.Now()
	b := startBroker(tb)
	ctx := ctxT(tb)
	for lo := 0; lo < scaleTopics; lo += scaleCreateBatchSize {
		names := make([]string, 0, scaleCreateBatchSize)
		for i := lo; i < min(scaleTopics, lo+scaleCreateBatchSize); i++ {
			names = append(names, scaleTopic(i))
		}
		resp, err := b.adm.CreateTopics(ctx, scalePartitions, 1, nil, names...)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			tb.Fatalf("creating topics %d to %d: %v", lo, lo+len(names)-1, err)
		}
	}
	created := time.Since(start)

	var wg sync.WaitGroup
	errs := make(chan error, scaleGroups)
	sem := make(chan struct{}, 8)
	for g := range scaleGroups {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var os kadm.Offsets
			for k := range scaleTopicsPerGroup {
				for p := range int32(scalePartitions) {
					os.AddOffset(scaleTopic((g*scaleTopicsPerGroup+k)%scaleTopics), p, 0, -1)
				}
			}
			if err := b.adm.CommitAllOffsets(ctx, scaleGroup(g), os); err != nil {
				errs <- fmt.Errorf("committing for %s: %w", scaleGroup(g), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	tb.Logf("setup: %d topics of %d partitions in %v, %d groups committed in %v",
		scaleTopics, scalePartitions, created.Round(time.Millisecond), scaleGroups, (time.Since(start) - created).Round(time.Millisecond))
	return b
}

// TestListScale checks that list calls answer (loosely, under 5 s) with 2,000 topics and 500 groups,
// and that their pages hold what setupScale made; BenchmarkTopicsList and BenchmarkGroupsList measure.
func TestListScale(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 2,000 topics and 500 groups")
	}
	tb := setupScale(t)
	v := tb.view(t)
	const loose = 5 * time.Second
	timed := func(what string, fn func() error) {
		t.Helper()
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		took := time.Since(start)
		t.Logf("%s: %v", what, took.Round(time.Microsecond))
		if took > loose {
			t.Errorf("%s took %v, more than %v", what, took, loose)
		}
	}
	var tp TopicPage
	timed("Topics, first call (builds the group index)", func() (err error) {
		tp, err = v.Topics(ctxT(t), TopicQuery{Offset: 1000, Limit: 50})
		return err
	})
	if tp.Total != scaleTopics || len(tp.Items) != 50 || tp.Items[0].Name != scaleTopic(1000) {
		t.Fatalf("page: total %d, %d items, first %s", tp.Total, len(tp.Items), tp.Items[0].Name)
	}
	// Topic 1000 is committed on by group 250 (topics 1000 to 1003).
	if g := tp.Items[0].Groups; len(g) != 1 || g[0] != scaleGroup(250) || tp.Items[0].Partitions != scalePartitions {
		t.Errorf("topic %s: %+v", tp.Items[0].Name, tp.Items[0])
	}
	timed("Topics, page 20", func() (err error) {
		_, err = v.Topics(ctxT(t), TopicQuery{Offset: 1000, Limit: 50})
		return err
	})
	timed("Topics, largest page", func() (err error) {
		_, err = v.Topics(ctxT(t), TopicQuery{Limit: MaxLimit})
		return err
	})
	timed("Topics, search", func() (err error) {
		tp, err = v.Topics(ctxT(t), TopicQuery{Search: "TOPIC-19", Limit: 50})
		return err
	})
	if tp.Total != 100 {
		t.Errorf("search total %d, want 100", tp.Total)
	}
	var gp GroupPage
	timed("Groups, page 5", func() (err error) {
		gp, err = v.Groups(ctxT(t), GroupQuery{Offset: 200, Limit: 50})
		return err
	})
	if gp.Total != scaleGroups || len(gp.Items) != 50 || gp.Items[0].Name != scaleGroup(200) || len(gp.Items[0].Topics) != scaleTopicsPerGroup {
		t.Errorf("groups: total %d, %d items, first %+v", gp.Total, len(gp.Items), gp.Items[0])
	}
	timed("Topic detail", func() (err error) {
		_, err = v.Topic(ctxT(t), scaleTopic(1999))
		return err
	})
}

func BenchmarkTopicsList(b *testing.B) {
	tb := setupScale(b)
	v := tb.view(b)
	if err := v.RefreshGroups(ctxT(b)); err != nil {
		b.Fatal(err)
	}
	ctx := ctxT(b)
	i := 0
	for ; b.Loop(); i++ {
		if _, err := v.Topics(ctx, TopicQuery{Offset: (i * 50) % scaleTopics, Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/call")
}

func BenchmarkGroupsList(b *testing.B) {
	tb := setupScale(b)
	v := tb.view(b)
	ctx := ctxT(b)
	i := 0
	for ; b.Loop(); i++ {
		if _, err := v.Groups(ctx, GroupQuery{Offset: (i * 50) % scaleGroups, Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/call")
}

func BenchmarkGroupIndexBuild(b *testing.B) {
	tb := setupScale(b)
	v := tb.view(b)
	ctx := ctxT(b)
	i := 0
	for ; b.Loop(); i++ {
		if err := v.RefreshGroups(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/call")
}
