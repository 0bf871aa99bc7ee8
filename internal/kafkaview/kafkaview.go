// Package kafkaview is the console's window on Kafka: paginated lists of topics and consumer groups,
// a topic's details, and a message browser (by partition, offset, timestamp or newest, with a CEL filter
// evaluated here, live tail, and CSV/JSON export of what it shows).
//
// A View wraps the caller's kgo client. Lists ask Kafka only for what one page needs: one metadata (or
// ListGroups) request for the names, then offsets, sizes and commits only for the page's items. Which
// consumer groups read which topic comes from a group index the View keeps in memory and rebuilds in the
// background at most every GroupIndexMaxAge (one rebuild at a time); a page's lag is computed from fresh
// commits of the groups the index names. Records per second come from a sampler: the change of a topic's
// end offsets between two observations at least RateMinInterval apart.
//
// Browse and Tail never share the caller's connections: each call makes a private client from the
// caller's client options (kgo.Client.Opts), issues Fetch requests itself and closes the client when it
// returns. Raw fetches give exact positions (the next offset after each batch, control records and
// compacted gaps included), so a scan of [lo, hi) always ends.
//
// # Errors
//
//   - An unknown topic wraps ErrNotFound (errors.Is), for an HTTP 404.
//   - A bad input is an *InputError naming the parameter, for an HTTP 400. A filter that does not
//     compile or is not boolean is an *InputError with Param "filter" and CEL's message.
//   - Anything else is Kafka not answering as expected (HTTP 502/503).
//
// # Non-obvious
//
//   - The caller's client must not be a consumer (no ConsumerGroup, ConsumeTopics, ConsumePartitions):
//     Browse clones its options, and a clone of a group consumer would join the group. New refuses one.
//   - Browse reads with read_committed isolation: aborted transactional records are never shown and
//     the end of a partition is its last stable offset. Lists use high watermarks, as lag tools do.
//   - Records are ordered oldest to newest: by timestamp across partitions, by offset within one. When
//     a partition's timestamps go backwards (producer-set timestamps), the merge still takes each
//     partition's records in offset order, so Next never skips a record.
//   - kfake (the embedded broker) answers DescribeLogDirs from its in-memory byte counts, so sizes work
//     there; a cluster that refuses DescribeLogDirs gets no size (nil), never a guess.
//   - The first Topics or Topic call waits for the first group index build (one ListGroups, one
//     OffsetFetch and one DescribeGroups request per coordinator); later calls answer from the index
//     they have while a stale one is rebuilt. RefreshGroups forces a rebuild.
//   - Browse with FromNewest reads windows backwards (Limit records per partition first, then twice the
//     last window), so an unfiltered newest page reads one window per partition. Forwards, each
//     partition is read until it holds Limit matches, its end, or its share of MaxScan.
//   - The merge across partitions assumes each partition's timestamps mostly grow: it stops reading a
//     partition once its last-read record is later (earlier, backwards) than the match it would pick.
package kafkaview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults and limits of the View's inputs.
const (
	// DefaultLimit is the page size of lists and the record count of Browse when Limit is 0.
	DefaultLimit = 50
	// MaxLimit is the largest page size and Browse limit.
	MaxLimit = 500
	// DefaultMaxScan is how many records Browse reads at most to find Limit matches when MaxScan is 0.
	DefaultMaxScan = 10_000
	// MaxMaxScan is the largest MaxScan a Browse accepts.
	MaxMaxScan = 1_000_000
	// MaxFieldBytes caps a message's key and value as returned: longer ones are cut and flagged
	// (filters still see the whole record).
	MaxFieldBytes = 1 << 20
	// MaxFilterLength is the longest CEL filter accepted, in bytes.
	MaxFilterLength = 4096
	// GroupIndexMaxAge is how old the group index may get before a list call starts a rebuild.
	GroupIndexMaxAge = 30 * time.Second
	// RateMinInterval is the shortest time between the two observations a records/s rate is computed from.
	RateMinInterval = 5 * time.Second
)

// ErrNotFound is wrapped by the errors of calls naming a topic that does not exist.
var ErrNotFound = errors.New("not found")

// InputError is a bad input: Param names the parameter (as the HTTP API spells it, such as "limit",
// "partition" or "filter") and Message says what was wrong and what was expected.
type InputError struct {
	Param   string
	Message string
}

// Error returns "param: message".
func (e *InputError) Error() string { return e.Param + ": " + e.Message }

func inputErr(param, format string, args ...any) error {
	return &InputError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// Option configures New.
type Option func(*View)

// WithLogger sets where the View logs (group index rebuilds that fail); the default discards.
func WithLogger(l *slog.Logger) Option { return func(v *View) { v.log = l } }

// View answers the console's questions about one Kafka cluster. Its methods are safe for concurrent
// use. Close stops its background work; it does not close the caller's client.
type View struct {
	cl   *kgo.Client
	adm  *kadm.Client
	log  *slog.Logger
	now  func() time.Time // tests move the clock
	opts []kgo.Opt        // the caller's client options, for Browse and Tail clients

	rates     *sampler
	groups    *groupIndex
	filterEnv *cel.Env

	ctx    context.Context // lives until Close; background index rebuilds run under it
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add against Close
	closed bool
	wg     sync.WaitGroup
}

// New returns a View over cl, a client created by the caller with its seed brokers (and TLS, SASL as
// needed). cl must not consume: it fails if cl has a consumer group or consumes topics or partitions.
func New(cl *kgo.Client, opts ...Option) (*View, error) {
	if cl == nil {
		return nil, errors.New("kafkaview: nil client")
	}
	if g, _ := cl.OptValue(kgo.ConsumerGroup).(string); g != "" {
		return nil, fmt.Errorf("kafkaview: the client is a member of consumer group %q; pass a client that does not consume", g)
	}
	if ts, _ := cl.OptValue(kgo.ConsumeTopics).([]string); len(ts) > 0 {
		return nil, errors.New("kafkaview: the client consumes topics; pass a client that does not consume")
	}
	if ps, _ := cl.OptValue(kgo.ConsumePartitions).(map[string]map[int32]kgo.Offset); len(ps) > 0 {
		return nil, errors.New("kafkaview: the client consumes partitions; pass a client that does not consume")
	}
	env, err := newFilterEnv()
	if err != nil {
		return nil, fmt.Errorf("kafkaview: building the CEL environment: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	v := &View{
		filterEnv: env,
		cl:        cl,
		adm:       kadm.NewClient(cl),
		log:       slog.New(slog.DiscardHandler),
		now:       time.Now,
		opts:      cl.Opts(),
		rates:     newSampler(),
		groups:    &groupIndex{},
		ctx:       ctx,
		cancel:    cancel,
	}
	for _, o := range opts {
		o(v)
	}
	return v, nil
}

// errClosed is the group index's error after Close.
var errClosed = errors.New("kafkaview: the view is closed")

// Close stops the View's background group index rebuild, if one runs, and waits for it. It is
// idempotent. After Close, calls still answer but without consumer groups on topics.
func (v *View) Close() {
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	v.cancel()
	v.wg.Wait()
}

// checkPage validates list paging: offset >= 0 and limit in [0, MaxLimit], 0 meaning DefaultLimit.
func checkPage(offset, limit int) (int, error) {
	if offset < 0 {
		return 0, inputErr("offset", "expected an integer >= 0, got %d", offset)
	}
	if limit < 0 || limit > MaxLimit {
		return 0, inputErr("limit", "expected an integer from 1 to %d, got %d", MaxLimit, limit)
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	return limit, nil
}

// pageBounds returns [lo, hi) of the page in a list of n items.
func pageBounds(n, offset, limit int) (lo, hi int) {
	if offset >= n {
		return n, n
	}
	return offset, min(n, offset+limit)
}

// checkTopicName reports whether name is a legal Kafka topic name: 1 to 249 characters of
// [a-zA-Z0-9._-], and neither "." nor "..".
func checkTopicName(param, name string) error {
	if name == "" {
		return inputErr(param, "expected a topic name, got nothing")
	}
	if len(name) > 249 {
		return inputErr(param, "topic names have at most 249 characters, got %d", len(name))
	}
	if name == "." || name == ".." {
		return inputErr(param, "%q is not a legal topic name", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return inputErr(param, "topic names use only letters, digits, '.', '_' and '-'; %q has %q at byte %d", name, c, i)
		}
	}
	return nil
}
