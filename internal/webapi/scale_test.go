package webapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/webapi"
)

// The scale the console's list endpoints must serve within a second (issue 8).
const (
	scaleTopics     = 2000
	scalePartitions = 2
	scaleGroups     = 500
	// Group i commits on topics topicsPerGroup*i to topicsPerGroup*i+topicsPerGroup-1.
	topicsPerGroup = 4
	// scaleToken is the viewer's bearer token the requests carry.
	scaleToken = "scale-test-viewer-token-0123456789abcdef"
)

func scaleTopic(i int) string { return fmt.Sprintf("scale.topic-%04d", i) }
func scaleGroup(i int) string { return fmt.Sprintf("scale-group-%03d", i) }

// scaleAPI is the console's API over an embedded broker holding scaleTopics topics and scaleGroups groups.
type scaleAPI struct {
	url string // the API server's base URL
	hc  *http.Client
}

// startScale starts an embedded broker on a loopback port; creates scaleTopics topics of scalePartitions
// partitions, each with one record per partition; commits offset 0 for each of scaleGroups groups on every
// partition of its topicsPerGroup topics (so each of those partitions lags by 1); and serves the console's API
// on a loopback port with authentication on (a viewer's bearer token).
func startScale(tb testing.TB) *scaleAPI {
	tb.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: scalePartitions})
	if err != nil {
		tb.Fatalf("starting the broker: %v", err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("closing the broker: %v", err)
		}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	const batch = 500 // topics per CreateTopics request
	for lo := 0; lo < scaleTopics; lo += batch {
		names := make([]string, 0, batch)
		for i := lo; i < min(scaleTopics, lo+batch); i++ {
			names = append(names, scaleTopic(i))
		}
		resp, err := adm.CreateTopics(ctx, scalePartitions, 1, nil, names...)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			tb.Fatalf("creating topics %s to %s: %v", names[0], names[len(names)-1], err)
		}
	}
	created := time.Since(start)

	recs := make([]*kgo.Record, 0, scaleTopics*scalePartitions)
	for i := range scaleTopics {
		for p := range int32(scalePartitions) {
			recs = append(recs, &kgo.Record{Topic: scaleTopic(i), Partition: p, Value: []byte(`{"n":1}`)})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		tb.Fatalf("producing one record per partition: %v", err)
	}
	produced := time.Since(start) - created

	var wg sync.WaitGroup
	errs := make(chan error, scaleGroups)
	sem := make(chan struct{}, 8) // commits in flight
	for g := range scaleGroups {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var offs kadm.Offsets
			for k := range topicsPerGroup {
				for p := range int32(scalePartitions) {
					offs.AddOffset(scaleTopic(g*topicsPerGroup+k), p, 0, -1)
				}
			}
			if err := adm.CommitAllOffsets(ctx, scaleGroup(g), offs); err != nil {
				errs <- fmt.Errorf("committing offsets for %s: %w", scaleGroup(g), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	tb.Logf("setup: %d topics of %d partitions created in %v, a record per partition produced in %v, %d groups committed in %v",
		scaleTopics, scalePartitions, created.Round(time.Millisecond), produced.Round(time.Millisecond), scaleGroups,
		(time.Since(start) - created - produced).Round(time.Millisecond))

	// The console's own client, as cmd/bigfather makes it: no consumer group.
	kc, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ClientID("bigfather-console"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(kc.Close)
	authn, err := auth.New(config.Auth{Tokens: []config.AuthToken{{Name: "scale-viewer", Token: scaleToken, Role: "viewer"}}})
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p := &webapi.Platform{Config: &config.Config{}, Kafka: kc, Auth: authn, Log: log}
	if err := p.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	a := api.New(authn, nil, log)
	a.Add(p.Modules()...)
	srv := httptest.NewServer(a) // on 127.0.0.1
	tb.Cleanup(srv.Close)
	return &scaleAPI{url: srv.URL + api.Prefix, hc: srv.Client()}
}

// get answers GET path (under /api/v1) as the viewer, decoding the JSON answer into v.
func (s *scaleAPI) get(tb testing.TB, path string, v any) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+scaleToken)
	resp, err := s.hc.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: reading the answer: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		tb.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// topicPage and groupPage are the answers of GET /topics and GET /groups.
type topicPage struct {
	Items []struct {
		Name       string   `json:"name"`
		Partitions int      `json:"partitions"`
		Messages   int64    `json:"messages"`
		Groups     []string `json:"groups"`
		Lag        int64    `json:"lag"`
	} `json:"items"`
	Total    int      `json:"total"`
	Warnings []string `json:"warnings"`
}

type groupPage struct {
	Items []struct {
		Name   string   `json:"name"`
		Topics []string `json:"topics"`
		Lag    int64    `json:"lag"`
	} `json:"items"`
	Total    int      `json:"total"`
	Warnings []string `json:"warnings"`
}

// TestScaleLists: with 2,000 topics and 500 consumer groups on the embedded broker, GET /api/v1/topics and
// GET /api/v1/groups answer with the right pages, each call (loosely) within 5 s; BenchmarkScaleTopicsList
// and BenchmarkScaleGroupsList measure them against the 1 s target.
func TestScaleLists(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 2,000 topics and 500 consumer groups")
	}
	s := startScale(t)
	const loose = 5 * time.Second
	timed := func(path string, v any) {
		t.Helper()
		start := time.Now()
		s.get(t, path, v)
		took := time.Since(start)
		t.Logf("GET %s: %v", path, took.Round(time.Microsecond))
		if took > loose {
			t.Errorf("GET %s took %v, more than %v", path, took, loose)
		}
	}

	var tp topicPage
	// The first call waits for the group index (every group's commits, listed once).
	timed("/topics?limit=50", &tp)
	if tp.Total != scaleTopics || len(tp.Items) != 50 || tp.Items[0].Name != scaleTopic(0) || len(tp.Warnings) != 0 {
		t.Fatalf("first page: total %d, %d items, first %+v, warnings %q", tp.Total, len(tp.Items), tp.Items[0], tp.Warnings)
	}
	timed("/topics?offset=1000&limit=50", &tp)
	// Topic 1000 is committed on by group 250 only, at offset 0 of partitions holding one record each.
	if first := tp.Items[0]; first.Name != scaleTopic(1000) || first.Partitions != scalePartitions || first.Messages != scalePartitions ||
		len(first.Groups) != 1 || first.Groups[0] != scaleGroup(250) || first.Lag != scalePartitions {
		t.Errorf("topic %s: %+v", scaleTopic(1000), first)
	}
	timed("/topics?offset=1950&limit=50", &tp)
	if len(tp.Items) != 50 || tp.Items[49].Name != scaleTopic(scaleTopics-1) {
		t.Errorf("last page: %d items, last %+v", len(tp.Items), tp.Items[len(tp.Items)-1])
	}
	timed("/topics?limit=500", &tp)
	if len(tp.Items) != 500 {
		t.Errorf("largest page: %d items", len(tp.Items))
	}
	timed("/topics?search=TOPIC-19&limit=50", &tp)
	if tp.Total != 100 || len(tp.Items) != 50 || tp.Items[0].Name != scaleTopic(1900) {
		t.Errorf("search TOPIC-19: total %d, %d items", tp.Total, len(tp.Items))
	}

	var gp groupPage
	timed("/groups?limit=50", &gp)
	if gp.Total != scaleGroups || len(gp.Items) != 50 || gp.Items[0].Name != scaleGroup(0) || len(gp.Warnings) != 0 {
		t.Fatalf("first group page: total %d, %d items, warnings %q", gp.Total, len(gp.Items), gp.Warnings)
	}
	timed("/groups?offset=200&limit=50", &gp)
	want := []string{scaleTopic(800), scaleTopic(801), scaleTopic(802), scaleTopic(803)}
	if first := gp.Items[0]; first.Name != scaleGroup(200) || fmt.Sprint(first.Topics) != fmt.Sprint(want) || first.Lag != topicsPerGroup*scalePartitions {
		t.Errorf("group %s: %+v, want topics %q and lag %d", scaleGroup(200), first, want, topicsPerGroup*scalePartitions)
	}
	timed("/groups?limit=500", &gp)
	if len(gp.Items) != scaleGroups {
		t.Errorf("largest group page: %d items", len(gp.Items))
	}
	timed("/groups?search=GROUP-49&limit=50", &gp)
	if gp.Total != 10 || gp.Items[0].Name != scaleGroup(490) {
		t.Errorf("search GROUP-49: total %d, first %+v", gp.Total, gp.Items)
	}
}

// BenchmarkScaleTopicsList measures GET /api/v1/topics?limit=50 over the pages of 2,000 topics (the group
// index built first, as a running console has it).
func BenchmarkScaleTopicsList(b *testing.B) {
	s := startScale(b)
	var tp topicPage
	s.get(b, "/topics?limit=50", &tp)
	i := 0
	for ; b.Loop(); i++ {
		s.get(b, fmt.Sprintf("/topics?offset=%d&limit=50", (i*50)%scaleTopics), &tp)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/call")
}

// BenchmarkScaleGroupsList measures GET /api/v1/groups?limit=50 over the pages of 500 groups.
func BenchmarkScaleGroupsList(b *testing.B) {
	s := startScale(b)
	var gp groupPage
	i := 0
	for ; b.Loop(); i++ {
		s.get(b, fmt.Sprintf("/groups?offset=%d&limit=50", (i*50)%scaleGroups), &gp)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/call")
}
