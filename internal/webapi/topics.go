package webapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/kafkaview"
)

// topics is the Topics page's API family: topics, consumer groups and the message browser (kafkaview).
type topics struct{ p *Platform }

var topicParam = api.Param{Name: "name", In: "path", Description: "the topic"}

var browseParams = []api.Param{
	{Name: "partition", In: "query", Type: "integer", Description: "one partition, or -1 for all (default)"},
	{Name: "from", In: "query", Description: "newest (default), oldest, offset or timestamp"},
	{Name: "offset", In: "query", Type: "integer", Description: "with from=offset: where to start in each partition"},
	{Name: "timestamp", In: "query", Description: "with from=timestamp: RFC 3339 or Unix milliseconds"},
	{Name: "limit", In: "query", Type: "integer", Description: "records, 1 to 500 (default 50)"},
	{Name: "filter", In: "query", Description: "a CEL expression over key, value (JSON), headers, topic, partition, offset, timestamp, size"},
	{Name: "max_scan", In: "query", Type: "integer", Description: "records read at most to find the matches (default 10000)"},
}

func (m topics) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/topics", Role: auth.Viewer, Summary: "Topics: partitions, messages, size, records/s, consumer groups and lag, paginated and searchable",
			Params: append([]api.Param{{Name: "search", In: "query", Description: "substring of the name, any case"}}, api.PagingParams...), Handler: m.list},
		{Method: http.MethodGet, Path: "/groups", Role: auth.Viewer, Summary: "Consumer groups on the cluster (every group, not only Big Father's) with their topics and lag",
			Params: append([]api.Param{{Name: "search", In: "query", Description: "substring of the name, any case"}}, api.PagingParams...), Handler: m.groups},
		{Method: http.MethodGet, Path: "/topics/{name}", Role: auth.Viewer, Summary: "A topic: partitions with offsets, configs and each group's lag",
			Params: []api.Param{topicParam}, Handler: m.get},
		{Method: http.MethodGet, Path: "/topics/{name}/messages", Role: auth.Viewer, Summary: "Records of a topic by partition, offset, time or newest, filtered on the server by CEL; format=csv or json downloads them",
			Params: append([]api.Param{topicParam, {Name: "format", In: "query", Description: "csv or json to download instead of the page's JSON"}}, browseParams...), Handler: m.messages},
		{Method: http.MethodGet, Path: "/topics/{name}/tail", Role: auth.Viewer, Summary: "Live tail: records produced from now on, as server-sent events (one JSON record per event)",
			Params: []api.Param{topicParam, browseParams[0], browseParams[5]}, Handler: m.tail},
	}
}

// view returns the Kafka view, or 503 when the process has no Kafka client.
func (m topics) view() (*kafkaview.View, error) {
	if m.p.kafkaView == nil {
		return nil, api.Unavailable("this process has no Kafka cluster configured (kafka.brokers)")
	}
	return m.p.kafkaView, nil
}

// kafkaError maps kafkaview's errors to API errors.
func kafkaError(err error, name string) error {
	var in *kafkaview.InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &in):
		if in.Param == "topic" {
			// The topic is the route's path parameter {name}.
			return api.BadParam("name", "%s", in.Message)
		}
		return &api.Error{Status: http.StatusBadRequest, Code: "bad_parameter", Param: in.Param, Message: in.Error()}
	case errors.Is(err, kafkaview.ErrNotFound):
		return api.NotFound("topic", name)
	}
	return api.Unavailable("reading from Kafka: %v", err)
}

func (m topics) list(r *api.Request) (any, error) {
	v, err := m.view()
	if err != nil {
		return nil, err
	}
	offset, limit, err := r.Paging()
	if err != nil {
		return nil, err
	}
	page, err := v.Topics(r.Context(), kafkaview.TopicQuery{Search: r.URL.Query().Get("search"), Offset: offset, Limit: limit})
	if err != nil {
		return nil, kafkaError(err, "")
	}
	return map[string]any{"items": page.Items, "total": page.Total, "offset": offset, "limit": limit, "warnings": page.Warnings}, nil
}

func (m topics) groups(r *api.Request) (any, error) {
	v, err := m.view()
	if err != nil {
		return nil, err
	}
	offset, limit, err := r.Paging()
	if err != nil {
		return nil, err
	}
	page, err := v.Groups(r.Context(), kafkaview.GroupQuery{Search: r.URL.Query().Get("search"), Offset: offset, Limit: limit})
	if err != nil {
		return nil, kafkaError(err, "")
	}
	return map[string]any{"items": page.Items, "total": page.Total, "offset": offset, "limit": limit, "warnings": page.Warnings}, nil
}

func (m topics) get(r *api.Request) (any, error) {
	v, err := m.view()
	if err != nil {
		return nil, err
	}
	name := r.PathValue("name")
	d, err := v.Topic(r.Context(), name)
	if err != nil {
		return nil, kafkaError(err, name)
	}
	return map[string]any{"name": d.Name, "summary": d.TopicSummary, "partitions": d.PartitionDetails, "configs": d.Configs,
		"group_lags": d.GroupLags, "warnings": d.Warnings}, nil
}

// browseRequest reads the browse parameters.
func browseRequest(r *api.Request) (kafkaview.BrowseRequest, error) {
	req := kafkaview.BrowseRequest{Topic: r.PathValue("name"), Filter: r.URL.Query().Get("filter")}
	part, err := r.Int("partition", -1, -1, 1<<31-1)
	if err != nil {
		return req, err
	}
	req.Partition = int32(part)
	if req.From, err = r.OneOf("from", kafkaview.FromNewest, kafkaview.FromNewest, kafkaview.FromOldest, kafkaview.FromOffset, kafkaview.FromTimestamp); err != nil {
		return req, err
	}
	if req.Offset, err = r.Int("offset", 0, 0, 1<<62); err != nil {
		return req, err
	}
	if req.From == kafkaview.FromTimestamp {
		if req.Timestamp, err = r.Time("timestamp"); err != nil {
			return req, err
		}
		if req.Timestamp.IsZero() {
			return req, api.BadParam("timestamp", "from=timestamp needs a timestamp (RFC 3339 or Unix milliseconds)")
		}
	}
	limit, err := r.Int("limit", kafkaview.DefaultLimit, 1, kafkaview.MaxLimit)
	if err != nil {
		return req, err
	}
	scan, err := r.Int("max_scan", kafkaview.DefaultMaxScan, 1, kafkaview.MaxMaxScan)
	if err != nil {
		return req, err
	}
	req.Limit, req.MaxScan = int(limit), int(scan)
	return req, nil
}

func (m topics) messages(r *api.Request) (any, error) {
	v, err := m.view()
	if err != nil {
		return nil, err
	}
	format, err := r.OneOf("format", "", "csv", "json")
	if err != nil {
		return nil, err
	}
	req, err := browseRequest(r)
	if err != nil {
		return nil, err
	}
	res, err := v.Browse(r.Context(), req)
	if err != nil {
		return nil, kafkaError(err, req.Topic)
	}
	if format == "" {
		if res.Messages == nil {
			res.Messages = []kafkaview.Message{}
		}
		return res, nil
	}
	w := r.Writer
	name := fmt.Sprintf("%s-%s.%s", req.Topic, time.Now().UTC().Format("20060102T150405Z"), format)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		err = kafkaview.WriteCSV(w, res.Messages)
	} else {
		w.Header().Set("Content-Type", "application/json")
		err = kafkaview.WriteJSON(w, res.Messages)
	}
	if err != nil {
		m.p.Log.Warn("writing an export failed", "topic", req.Topic, "err", err)
	}
	return api.Streamed, nil
}

// Live tail timing: the stream opens (200 and a comment line) at the first record or after tailOpenAfter,
// whichever comes first, so a tail of a quiet topic is open at once, while a topic or filter the tail refuses
// still gets its JSON error; then a comment every tailPing keeps proxies from closing an idle stream.
const (
	tailOpenAfter = time.Second
	tailPing      = 15 * time.Second
)

func (m topics) tail(r *api.Request) (any, error) {
	v, err := m.view()
	if err != nil {
		return nil, err
	}
	part, err := r.Int("partition", -1, -1, 1<<31-1)
	if err != nil {
		return nil, err
	}
	req := kafkaview.TailRequest{Topic: r.PathValue("name"), Partition: int32(part), Filter: r.URL.Query().Get("filter")}
	w := r.Writer
	rc := http.NewResponseController(w)
	started := false
	start := func() {
		if !started {
			started = true
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, ": tailing\n\n")
			_ = rc.Flush()
		}
	}
	// Tail runs in its own goroutine and hands over each record, so this one can also open the stream and ping.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	records := make(chan kafkaview.Message)
	done := make(chan error, 1)
	go func() {
		done <- v.Tail(ctx, req, func(msg kafkaview.Message) error {
			select {
			case records <- msg:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	open := time.NewTimer(tailOpenAfter)
	defer open.Stop()
	ping := time.NewTicker(tailPing)
	defer ping.Stop()
	for {
		select {
		case msg := <-records:
			start()
			js, err := json.Marshal(msg)
			if err == nil {
				_, err = fmt.Fprintf(w, "id: %d:%s\ndata: %s\n\n", msg.Partition, strconv.FormatInt(msg.Offset, 10), js)
			}
			if err == nil {
				err = rc.Flush()
			}
			if err != nil { // the client left (a record that cannot be sent ends the stream too)
				cancel()
				<-done
				return api.Streamed, nil
			}
		case <-open.C:
			start()
		case <-ping.C:
			if started {
				fmt.Fprint(w, ": ping\n\n")
				_ = rc.Flush()
			}
		case err := <-done:
			if err != nil && !started {
				return nil, kafkaError(err, req.Topic)
			}
			// A failure after the stream opened ends it; an EventSource reconnects and gets the error then.
			if err != nil {
				m.p.Log.Warn("live tail stopped", "topic", req.Topic, "err", err)
			}
			start()
			return api.Streamed, nil
		}
	}
}
