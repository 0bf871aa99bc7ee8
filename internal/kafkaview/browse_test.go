package kafkaview

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// t0 is the timestamp of the first event; event k is at t0 + k seconds.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// eventRecords are ten records: event k goes to partition k%2 at offset k/2 with timestamp t0+k s, so
// their timestamp order interleaves the partitions: k0 (p0/0), k1 (p1/0), k2 (p0/1), ...
func eventRecords(topic string) []*kgo.Record {
	h := func(kv ...string) []kgo.RecordHeader {
		var hs []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return hs
	}
	events := []struct {
		key     []byte
		value   []byte
		headers []kgo.RecordHeader
	}{
		{[]byte("u1"), []byte(`{"event_type":"login","amount":0}`), h("source", "ios")},
		{[]byte("u2"), []byte(`{"event_type":"purchase","amount":9.99}`), h("source", "ios")},
		{[]byte("u1"), []byte(`{"event_type":"purchase","amount":5}`), h("source", "android")},
		{[]byte("u3"), []byte("not json"), h("source", "ios")},
		{[]byte{0x00, 0xff}, []byte(`{"event_type":"purchase","amount":20}`), h("source", "ios")},
		{[]byte("u2"), nil, nil},
		{[]byte("u4"), []byte(`{"event_type":"login"}`), h("source", "web")},
		{[]byte("u1"), []byte(`{"event_type":"purchase","amount":1,"items":["a","b"]}`), h("source", "ios", "trace", "abc")},
		{[]byte("u5"), []byte{0xc3, 0x28}, h("source", "ios")},
		{[]byte("u2"), []byte(`{"event_type":"purchase","amount":3}`), h("source", "android")},
	}
	recs := make([]*kgo.Record, len(events))
	for k, e := range events {
		recs[k] = &kgo.Record{
			Topic: topic, Partition: int32(k % 2), Key: e.key, Value: e.value, Headers: e.headers,
			Timestamp: t0.Add(time.Duration(k) * time.Second),
		}
	}
	return recs
}

// ks names messages by event number, "k3", from their partition and offset.
func ks(msgs []Message) string {
	var b strings.Builder
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "k%d", m.Offset*2+int64(m.Partition))
	}
	return b.String()
}

func setupEvents(t *testing.T) (*testBroker, *View) {
	t.Helper()
	tb := startBroker(t)
	tb.createTopic(t, "events", 2, nil)
	tb.produce(t, eventRecords("events")...)
	return tb, tb.view(t)
}

func TestBrowse(t *testing.T) {
	_, v := setupEvents(t)
	tests := []struct {
		name    string
		req     BrowseRequest
		want    string
		scanned int
		next    map[int32]int64
	}{
		{"oldest all", BrowseRequest{From: FromOldest, Partition: AllPartitions, Limit: 4},
			"k0 k1 k2 k3", 8, map[int32]int64{0: 2, 1: 2}},
		{"oldest one", BrowseRequest{From: FromOldest, Partition: 1, Limit: 2},
			"k1 k3", 2, map[int32]int64{1: 2}},
		{"oldest all beyond the end", BrowseRequest{From: FromOldest, Partition: AllPartitions, Limit: 50},
			"k0 k1 k2 k3 k4 k5 k6 k7 k8 k9", 10, map[int32]int64{0: 5, 1: 5}},
		{"newest default", BrowseRequest{Partition: AllPartitions, Limit: 3},
			"k7 k8 k9", 6, map[int32]int64{0: 5, 1: 5}},
		{"newest one", BrowseRequest{From: FromNewest, Partition: 1, Limit: 2},
			"k7 k9", 2, map[int32]int64{1: 5}},
		{"newest more than there is", BrowseRequest{From: FromNewest, Partition: 0, Limit: 50},
			"k0 k2 k4 k6 k8", 5, map[int32]int64{0: 5}},
		{"offset one", BrowseRequest{From: FromOffset, Offset: 3, Partition: 0, Limit: 10},
			"k6 k8", 2, map[int32]int64{0: 5}},
		{"offset all", BrowseRequest{From: FromOffset, Offset: 4, Partition: AllPartitions, Limit: 10},
			"k8 k9", 2, map[int32]int64{0: 5, 1: 5}},
		{"offsets per partition", BrowseRequest{From: FromOffset, Offsets: map[int32]int64{0: 4, 1: 3}, Partition: AllPartitions, Limit: 10},
			"k7 k8 k9", 3, map[int32]int64{0: 5, 1: 5}},
		{"offset past the end", BrowseRequest{From: FromOffset, Offset: 99, Partition: AllPartitions},
			"", 0, map[int32]int64{0: 5, 1: 5}},
		{"timestamp all", BrowseRequest{From: FromTimestamp, Timestamp: t0.Add(5 * time.Second), Partition: AllPartitions, Limit: 3},
			"k5 k6 k7", 5, map[int32]int64{0: 4, 1: 4}},
		{"timestamp one", BrowseRequest{From: FromTimestamp, Timestamp: t0.Add(4500 * time.Millisecond), Partition: 0, Limit: 1},
			"k6", 1, map[int32]int64{0: 4}},
		{"timestamp before 1970", BrowseRequest{From: FromTimestamp, Timestamp: time.Unix(0, 0).Add(-time.Millisecond), Partition: 0, Limit: 1},
			"k0", 1, map[int32]int64{0: 1}},
		{"timestamp after the last", BrowseRequest{From: FromTimestamp, Timestamp: t0.Add(time.Hour), Partition: AllPartitions},
			"", 0, map[int32]int64{0: 5, 1: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Topic = "events"
			res, err := v.Browse(ctxT(t), tt.req)
			if err != nil {
				t.Fatalf("Browse: %v", err)
			}
			if got := ks(res.Messages); got != tt.want {
				t.Errorf("messages %q, want %q", got, tt.want)
			}
			if res.Scanned != tt.scanned || res.Truncated {
				t.Errorf("scanned %d truncated %v, want %d false", res.Scanned, res.Truncated, tt.scanned)
			}
			if !reflect.DeepEqual(res.Next, tt.next) {
				t.Errorf("next %v, want %v", res.Next, tt.next)
			}
		})
	}
}

// TestBrowseContinue pages through a topic with Next and gets every record once.
func TestBrowseContinue(t *testing.T) {
	_, v := setupEvents(t)
	req := BrowseRequest{Topic: "events", Partition: AllPartitions, From: FromOldest, Limit: 3}
	var pages []string
	for range 5 {
		res, err := v.Browse(ctxT(t), req)
		if err != nil {
			t.Fatalf("Browse: %v", err)
		}
		pages = append(pages, ks(res.Messages))
		req.From, req.Offsets = FromOffset, res.Next
	}
	want := []string{"k0 k1 k2", "k3 k4 k5", "k6 k7 k8", "k9", ""}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("pages %q, want %q", pages, want)
	}
}

func TestBrowseFilter(t *testing.T) {
	_, v := setupEvents(t)
	tests := []struct {
		filter  string
		from    string
		part    int32
		limit   int
		want    string
		scanned int
	}{
		{`value.event_type == "purchase" && headers["source"] == "ios"`, FromOldest, AllPartitions, 50, "k1 k4 k7", 10},
		{`key == "u1"`, FromOldest, AllPartitions, 50, "k0 k2 k7", 10},
		{`key == "AP8="`, FromOldest, AllPartitions, 50, "k4", 10}, // a binary key as Message shows it, base64
		{`partition == 1 && offset >= 3`, FromOldest, AllPartitions, 50, "k7 k9", 10},
		{`timestamp >= timestamp("2025-01-01T00:00:08Z")`, FromOldest, AllPartitions, 50, "k8 k9", 10},
		{`value.amount > 4`, FromOldest, AllPartitions, 50, "k1 k2 k4", 10},
		{`"items" in value && value.items.size() == 2`, FromOldest, AllPartitions, 50, "k7", 10},
		{`headers.trace == "abc"`, FromOldest, AllPartitions, 50, "k7", 10},
		{`value == "not json"`, FromOldest, AllPartitions, 50, "k3", 10},
		{`value == "wyg="`, FromOldest, AllPartitions, 50, "k8", 10}, // non-UTF-8 value in base64
		{`value == null`, FromOldest, AllPartitions, 50, "k5", 10},
		{`topic == "events" && size == 2`, FromOldest, AllPartitions, 50, "k5", 10},
		{`value.amount == 5`, FromOldest, 0, 50, "k2", 5}, // a JSON 5 is an int, equal to 5 and 5.0
		{`value.event_type == "purchase"`, FromNewest, AllPartitions, 2, "k7 k9", 4},
		{`value.event_type == "purchase"`, FromNewest, AllPartitions, 4, "k2 k4 k7 k9", 9},
		{`value.event_type == "purchase"`, FromOldest, AllPartitions, 2, "k1 k2", 7},
		{`offset <= 1`, FromNewest, 0, 1, "k2", 5}, // windows of 1, 2, then 4 (cut at the log start) records
		{`key == "u1"`, FromNewest, AllPartitions, 1, "k7", 6},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			res, err := v.Browse(ctxT(t), BrowseRequest{Topic: "events", Partition: tt.part, From: tt.from, Limit: tt.limit, Filter: tt.filter})
			if err != nil {
				t.Fatalf("Browse: %v", err)
			}
			if got := ks(res.Messages); got != tt.want {
				t.Errorf("messages %q, want %q", got, tt.want)
			}
			if res.Scanned != tt.scanned || res.Truncated {
				t.Errorf("scanned %d truncated %v, want %d false", res.Scanned, res.Truncated, tt.scanned)
			}
		})
	}
}

func TestBrowseMessageFields(t *testing.T) {
	_, v := setupEvents(t)
	res, err := v.Browse(ctxT(t), BrowseRequest{Topic: "events", Partition: 0, From: FromOffset, Offset: 2, Limit: 1})
	if err != nil {
		t.Fatalf("Browse: %v", err)
	}
	want := []Message{{
		Partition: 0, Offset: 2, Timestamp: t0.Add(4 * time.Second),
		Key: "AP8=", KeyEncoding: EncodingBase64,
		Value: `{"event_type":"purchase","amount":20}`, ValueEncoding: EncodingJSON,
		Headers: []Header{{Key: "source", Value: "ios", ValueEncoding: EncodingUTF8}},
		Size:    2 + len(`{"event_type":"purchase","amount":20}`) + len("source") + len("ios"),
	}}
	if !reflect.DeepEqual(res.Messages, want) {
		t.Errorf("messages\n%+v\nwant\n%+v", res.Messages, want)
	}
	res, err = v.Browse(ctxT(t), BrowseRequest{Topic: "events", Partition: 1, From: FromOffset, Offset: 2, Limit: 1})
	if err != nil {
		t.Fatalf("Browse: %v", err)
	}
	want = []Message{{
		Partition: 1, Offset: 2, Timestamp: t0.Add(5 * time.Second),
		Key: "u2", KeyEncoding: EncodingUTF8, Value: "", ValueEncoding: EncodingNull, Headers: []Header{}, Size: 2,
	}}
	if !reflect.DeepEqual(res.Messages, want) {
		t.Errorf("tombstone\n%+v\nwant\n%+v", res.Messages, want)
	}
}

func TestBrowseMaxScan(t *testing.T) {
	_, v := setupEvents(t)
	tests := []struct {
		name    string
		req     BrowseRequest
		want    string
		scanned int
		next    map[int32]int64
	}{
		{"one partition", BrowseRequest{Partition: 0, From: FromOldest, Filter: `key == "nobody"`, MaxScan: 3},
			"", 3, map[int32]int64{0: 3}},
		{"all partitions", BrowseRequest{Partition: AllPartitions, From: FromOldest, Filter: `key == "nobody"`, MaxScan: 5},
			"", 5, map[int32]int64{0: 3, 1: 2}},
		{"a match before the budget ends", BrowseRequest{Partition: AllPartitions, From: FromOldest, Filter: `key == "u2"`, MaxScan: 4},
			"k1", 4, map[int32]int64{0: 2, 1: 2}},
		{"newest", BrowseRequest{Partition: AllPartitions, From: FromNewest, Filter: `key == "u3"`, MaxScan: 6, Limit: 5},
			"", 6, map[int32]int64{0: 5, 1: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Topic = "events"
			res, err := v.Browse(ctxT(t), tt.req)
			if err != nil {
				t.Fatalf("Browse: %v", err)
			}
			if got := ks(res.Messages); got != tt.want {
				t.Errorf("messages %q, want %q", got, tt.want)
			}
			if res.Scanned != tt.scanned || !res.Truncated {
				t.Errorf("scanned %d truncated %v, want %d true", res.Scanned, res.Truncated, tt.scanned)
			}
			if !reflect.DeepEqual(res.Next, tt.next) {
				t.Errorf("next %v, want %v", res.Next, tt.next)
			}
		})
	}
}

func TestBrowseErrors(t *testing.T) {
	_, v := setupEvents(t)
	tests := []struct {
		name  string
		req   BrowseRequest
		param string
		msg   string
	}{
		{"filter syntax", BrowseRequest{Topic: "events", Filter: `value.event_type ==`}, "filter",
			"filter: ERROR: <input>:1:20: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | value.event_type ==\n | ...................^"},
		{"filter undeclared", BrowseRequest{Topic: "events", Filter: `vale.x == 1`}, "filter",
			"filter: ERROR: <input>:1:1: undeclared reference to 'vale' (did you mean 'value'?)\n | vale.x == 1\n | ^"},
		{"filter not boolean", BrowseRequest{Topic: "events", Filter: `key + "x"`}, "filter",
			"filter: expected a boolean expression, got one of type string"},
		{"topic name", BrowseRequest{Topic: "bad topic"}, "topic",
			`topic: topic names use only letters, digits, '.', '_' and '-'; "bad topic" has ' ' at byte 3`},
		{"partition", BrowseRequest{Topic: "events", Partition: 7}, "partition",
			`partition: topic "events" has partitions 0 to 1, got 7`},
		{"negative partition", BrowseRequest{Topic: "events", Partition: -2}, "partition",
			"partition: expected a partition number >= 0, or -1 for all, got -2"},
		{"from", BrowseRequest{Topic: "events", From: "latest"}, "from",
			`from: expected one of newest, oldest, offset, timestamp, got "latest"`},
		{"offset", BrowseRequest{Topic: "events", From: FromOffset, Offset: -1}, "offset",
			"offset: expected an offset >= 0, got -1"},
		{"offsets partition", BrowseRequest{Topic: "events", From: FromOffset, Partition: 0, Offsets: map[int32]int64{1: 0}}, "offsets",
			"offsets: only partition 0 is read, got an offset for partition 1"},
		{"offsets unknown partition", BrowseRequest{Topic: "events", From: FromOffset, Partition: AllPartitions, Offsets: map[int32]int64{5: 0}}, "offsets",
			`offsets: topic "events" has partitions 0 to 1, got an offset for partition 5`},
		{"offsets without from offset", BrowseRequest{Topic: "events", Offsets: map[int32]int64{1: 0}}, "offsets",
			"offsets: offsets apply only with from=offset, got from=newest"},
		{"timestamp", BrowseRequest{Topic: "events", From: FromTimestamp}, "timestamp",
			"timestamp: expected a time to start from, got none"},
		{"limit", BrowseRequest{Topic: "events", Limit: 501}, "limit",
			"limit: expected an integer from 1 to 500, got 501"},
		{"max scan", BrowseRequest{Topic: "events", MaxScan: -1}, "max_scan",
			"max_scan: expected an integer from 1 to 1000000, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Browse(ctxT(t), tt.req)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Browse error %v (%T), want an *InputError", err, err)
			}
			if ie.Param != tt.param || err.Error() != tt.msg {
				t.Errorf("error param %q message\n%s\nwant param %q message\n%s", ie.Param, err.Error(), tt.param, tt.msg)
			}
		})
	}
	_, err := v.Browse(ctxT(t), BrowseRequest{Topic: "nope"})
	if !errors.Is(err, ErrNotFound) || err.Error() != `topic "nope": not found` {
		t.Errorf("unknown topic: error %v, want ErrNotFound", err)
	}
}

// TestBrowseTransactions: Browse reads committed records only, across abort and commit markers, and
// FromNewest steps over a window that holds nothing but a marker.
func TestBrowseTransactions(t *testing.T) {
	tb := startBroker(t)
	tb.createTopic(t, "tx", 1, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(tb.b.Addr()), kgo.TransactionalID("tx-test"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatalf("creating a transactional producer: %v", err)
	}
	defer cl.Close()
	for _, tx := range []struct {
		value string
		end   kgo.TransactionEndTry
	}{{"aborted", kgo.TryAbort}, {"committed", kgo.TryCommit}} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatalf("BeginTransaction: %v", err)
		}
		if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "tx", Value: []byte(tx.value)}).FirstErr(); err != nil {
			t.Fatalf("producing %s: %v", tx.value, err)
		}
		if err := cl.EndTransaction(ctxT(t), tx.end); err != nil {
			t.Fatalf("EndTransaction: %v", err)
		}
	}
	// The log: 0 aborted, 1 abort marker, 2 committed, 3 commit marker.
	v := tb.view(t)
	for _, req := range []BrowseRequest{
		{Topic: "tx", From: FromOldest},
		{Topic: "tx", From: FromNewest, Limit: 1},
	} {
		res, err := v.Browse(ctxT(t), req)
		if err != nil {
			t.Fatalf("Browse from %s: %v", req.From, err)
		}
		if len(res.Messages) != 1 || res.Messages[0].Value != "committed" || res.Messages[0].Offset != 2 ||
			res.Scanned != 1 || !reflect.DeepEqual(res.Next, map[int32]int64{0: 4}) {
			t.Errorf("Browse from %s: %+v", req.From, res)
		}
	}
}

// TestBrowseNoAutoCreate: naming an unknown topic never creates it, even through a client that
// allows auto creation.
func TestBrowseNoAutoCreate(t *testing.T) {
	tb := startBroker(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(tb.b.Addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer cl.Close()
	v, err := New(cl)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer v.Close()
	if _, err := v.Browse(ctxT(t), BrowseRequest{Topic: "ghost"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Browse of an unknown topic: %v, want ErrNotFound", err)
	}
	if _, err := v.Topic(ctxT(t), "ghost"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Topic of an unknown topic: %v, want ErrNotFound", err)
	}
	page, err := v.Topics(ctxT(t), TopicQuery{})
	if err != nil || page.Total != 0 {
		t.Errorf("Topics after looking for ghost: %+v, %v; want none", page, err)
	}
}
