package webapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/iceberg-go/table"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/completeness"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/stage"
)

// pipelines is the Pipelines page's API family.
type pipelines struct{ p *Platform }

var nameParam = api.Param{Name: "name", In: "path", Description: "the pipeline's name"}

func (m pipelines) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/pipelines", Role: auth.Viewer, Summary: "Pipelines with their state, rate, lag and last commit", Handler: m.list},
		{Method: http.MethodGet, Path: "/pipelines/{name}", Role: auth.Viewer, Summary: "A pipeline: config, state, partitions with next offset, lag and owner",
			Params: []api.Param{nameParam}, Handler: m.get},
		{Method: http.MethodGet, Path: "/pipelines/{name}/history", Role: auth.Viewer, Summary: "A pipeline's records/s, rows/s, lag (records and seconds), freshness, commit duration and status over monitor.history (24 h by default), one point per monitor.interval, from every process",
			Params: []api.Param{nameParam, {Name: "hours", In: "query", Type: "integer", Description: "only the last hours (default: all that are kept)"}}, Handler: m.history},
		{Method: http.MethodGet, Path: "/pipelines/{name}/commits", Role: auth.Viewer, Summary: "Recent commits to a pipeline's tables, newest first",
			Params: []api.Param{nameParam, {Name: "limit", In: "query", Type: "integer", Description: "commits to return, 1 to 200 (default 20)"}}, Handler: m.commits},
		{Method: http.MethodGet, Path: "/pipelines/{name}/rejected/reasons", Role: auth.Viewer, Summary: "Rejected records counted by reason code and field",
			Params: []api.Param{nameParam}, Handler: m.reasons},
		{Method: http.MethodGet, Path: "/pipelines/{name}/rejected", Role: auth.Viewer, Summary: "Rejected records with their raw bytes, newest first",
			Params: append([]api.Param{nameParam, {Name: "reason", In: "query", Description: "only this reason code"}}, api.PagingParams...), Handler: m.rejected},
		{Method: http.MethodGet, Path: "/pipelines/{name}/completeness", Role: auth.Viewer, Summary: "The completeness report of a pipeline's main table (sequence gaps per producer)",
			Params: []api.Param{nameParam}, Handler: m.completeness},
		{Method: http.MethodPost, Path: "/pipelines/{name}/pause", Role: auth.Operator, Summary: "Pause a pipeline in this process: commit what is buffered, consume nothing more",
			Params: []api.Param{nameParam}, Handler: m.pause},
		{Method: http.MethodPost, Path: "/pipelines/{name}/resume", Role: auth.Operator, Summary: "Resume a paused pipeline (action retry or skip for one paused at a rejected record)",
			Params: []api.Param{nameParam, {Name: "action", In: "query", Description: "retry (default) or skip"}}, Handler: m.resume},
	}
}

// pipelineSummary is a pipeline in the list.
type pipelineSummary struct {
	Name          string    `json:"name"`
	Topics        []string  `json:"topics"`
	Table         string    `json:"table"`
	State         string    `json:"state"`
	PausedBy      string    `json:"paused_by,omitempty"`
	RecordsPerSec float64   `json:"records_per_sec"`
	Lag           int64     `json:"lag"`
	LastCommit    time.Time `json:"last_commit,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	// Status is the monitor's verdict (OK, WARN, STALL, STOP, ERR, REWIND, PAUSED); LagSeconds the age of
	// the oldest record not yet committed; FreshnessSeconds how far the main table is behind.
	Status           monitor.Status `json:"status,omitempty"`
	LagSeconds       float64        `json:"lag_seconds"`
	FreshnessSeconds float64        `json:"freshness_seconds"`
}

func (m pipelines) summary(pl *config.Pipeline) pipelineSummary {
	s := pipelineSummary{Name: pl.Name, Topics: pl.Topics, Table: pl.Table.Name, State: "idle"}
	if m.p.Health != nil {
		if st, ok := m.p.Health.Statuses()[pl.Name]; ok {
			s.State, s.LastCommit, s.LastError = st.State, st.LastCommit, st.LastError
		}
	}
	if m.p.Control != nil {
		s.PausedBy = m.p.Control.PausedBy(pl.Name)
	}
	if m.p.History != nil {
		pt := m.p.History.Latest(pl.Name)
		s.RecordsPerSec, s.Lag = pt.RecordsPerSec, pt.Lag
	}
	if m.p.Watcher != nil {
		for _, pr := range m.p.Watcher.Report().Pipelines {
			if pr.Name == pl.Name {
				s.Status, s.Lag, s.LagSeconds = pr.Status, pr.Lag, pr.LagSeconds
				if len(pr.Tables) > 0 {
					s.FreshnessSeconds = pr.Tables[0].FreshnessSeconds
				}
			}
		}
	}
	return s
}

func (m pipelines) list(*api.Request) (any, error) {
	items := []pipelineSummary{}
	for _, pl := range m.p.Pipelines {
		items = append(items, m.summary(pl))
	}
	return map[string]any{"items": items}, nil
}

// partitionState is one partition of a pipeline.
type partitionState struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// NextOffset is the next offset the main table stores for the partition (-1: none yet).
	NextOffset int64  `json:"next_offset"`
	EndOffset  *int64 `json:"end_offset,omitempty"`
	Lag        *int64 `json:"lag,omitempty"`
	// Owner is the consumer-group member (client id and host) the partition is assigned to.
	Owner string `json:"owner,omitempty"`
}

type pipelineDetail struct {
	pipelineSummary
	Group        string           `json:"group"`
	Tables       []string         `json:"tables"`
	Completeness bool             `json:"completeness"`
	Partitions   []partitionState `json:"partitions"`
	Config       *config.Pipeline `json:"config"`
}

func (m pipelines) get(r *api.Request) (any, error) {
	pl, err := m.p.pipeline(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	d := pipelineDetail{pipelineSummary: m.summary(pl), Group: pl.Group, Tables: pipelineTables(pl),
		Completeness: pl.Completeness.Enabled(), Config: pl, Partitions: []partitionState{}}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	stored := lake.Offsets{}
	if t, err := m.p.Lake.LoadTable(ctx, pl.Table.Name); err == nil {
		stored = lake.StoredOffsets(t, pl.Name)
	}
	ends, owners := m.kafkaState(ctx, pl)
	seen := map[lake.TopicPartition]bool{}
	add := func(tp lake.TopicPartition) {
		if seen[tp] {
			return
		}
		seen[tp] = true
		ps := partitionState{Topic: tp.Topic, Partition: tp.Partition, NextOffset: stored.Get(tp), Owner: owners[tp]}
		if end, ok := ends[tp]; ok {
			lag := end - max(ps.NextOffset, 0)
			ps.EndOffset, ps.Lag = &end, &lag
		}
		d.Partitions = append(d.Partitions, ps)
	}
	for tp := range stored {
		add(tp)
	}
	for tp := range ends {
		add(tp)
	}
	slices.SortFunc(d.Partitions, func(a, b partitionState) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	return d, nil
}

// kafkaState reads the end offsets of a pipeline's topics and which group member owns each partition; both
// are empty without a Kafka client or when the cluster does not answer in time.
func (m pipelines) kafkaState(ctx context.Context, pl *config.Pipeline) (map[lake.TopicPartition]int64, map[lake.TopicPartition]string) {
	ends, owners := map[lake.TopicPartition]int64{}, map[lake.TopicPartition]string{}
	if m.p.Kafka == nil {
		return ends, owners
	}
	adm := kadm.NewClient(m.p.Kafka)
	if offs, err := adm.ListEndOffsets(ctx, pl.Topics...); err == nil {
		offs.Each(func(o kadm.ListedOffset) {
			if o.Err == nil {
				ends[lake.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset
			}
		})
	}
	if groups, err := adm.DescribeGroups(ctx, pl.Group); err == nil {
		for _, mem := range groups[pl.Group].Members {
			a, ok := mem.Assigned.AsConsumer()
			if !ok {
				continue
			}
			who := mem.ClientID + "@" + strings.TrimPrefix(mem.ClientHost, "/")
			if mem.InstanceID != nil {
				who = *mem.InstanceID + " (" + who + ")"
			}
			for _, t := range a.Topics {
				for _, part := range t.Partitions {
					owners[lake.TopicPartition{Topic: t.Topic, Partition: part}] = who
				}
			}
		}
	}
	return ends, owners
}

// pipelineTables lists a pipeline's tables: main, routes, rejected.
func pipelineTables(pl *config.Pipeline) []string {
	out := []string{pl.Table.Name}
	for _, r := range pl.Routes {
		out = append(out, r.Table)
	}
	return append(out, pl.Table.Name+stage.RejectedSuffix)
}

func (m pipelines) history(r *api.Request) (any, error) {
	pl, err := m.p.pipeline(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	hours, err := r.Int("hours", 0, 0, 24*366)
	if err != nil {
		return nil, err
	}
	if m.p.History == nil {
		return map[string]any{"points": []any{}}, nil
	}
	var since time.Time
	if hours > 0 {
		since = time.Now().Add(-time.Duration(hours) * time.Hour)
	}
	return map[string]any{"points": m.p.History.Points(r.Context(), pl.Name, since)}, nil
}

// commitInfo is one snapshot of one of a pipeline's tables.
type commitInfo struct {
	Table      string    `json:"table"`
	SnapshotID int64     `json:"snapshot_id"`
	At         time.Time `json:"at"`
	Operation  string    `json:"operation"`
	AddedRows  int64     `json:"added_rows"`
	AddedFiles int64     `json:"added_files"`
	Writer     string    `json:"writer,omitempty"`
}

func (m pipelines) commits(r *api.Request) (any, error) {
	pl, err := m.p.pipeline(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	limit, err := r.Int("limit", 20, 1, 200)
	if err != nil {
		return nil, err
	}
	items := []commitInfo{}
	for _, name := range pipelineTables(pl) {
		t, err := m.p.Lake.LoadTable(r.Context(), name)
		if err != nil {
			continue // not created yet
		}
		items = append(items, snapshots(t, name)...)
	}
	slices.SortFunc(items, func(a, b commitInfo) int { return b.At.Compare(a.At) })
	return map[string]any{"items": items[:min(len(items), int(limit))]}, nil
}

// snapshots lists a table's snapshots, newest first.
func snapshots(t *table.Table, name string) []commitInfo {
	var out []commitInfo
	for _, s := range t.Metadata().Snapshots() {
		c := commitInfo{Table: name, SnapshotID: s.SnapshotID, At: time.UnixMilli(s.TimestampMs).UTC()}
		if s.Summary != nil {
			c.Operation = string(s.Summary.Operation)
			c.AddedRows = summaryInt(s.Summary.Properties, "added-records")
			c.AddedFiles = summaryInt(s.Summary.Properties, "added-data-files")
			c.Writer = s.Summary.Properties["bigfather.pipeline"]
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b commitInfo) int { return b.At.Compare(a.At) })
	return out
}

func summaryInt(props map[string]string, key string) int64 {
	var n int64
	fmt.Sscan(props[key], &n)
	return n
}

func (m pipelines) reasons(r *api.Request) (any, error) {
	pl, err := m.p.pipeline(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	eng, err := m.p.engine(r.Context(), pl.Table.Name+stage.RejectedSuffix)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	items := []map[string]any{}
	res, err := eng.Query(r.Context(), fmt.Sprintf(`select reason_code, field, count(*) as records, any_value(reason) as example
		from %s group by 1, 2 order by records desc, reason_code, field`, quoteTable(pl.Table.Name+stage.RejectedSuffix)))
	if err != nil {
		if isMissingTable(err) {
			return map[string]any{"items": items}, nil
		}
		return nil, err
	}
	for _, row := range res.Rows {
		items = append(items, map[string]any{"reason_code": row[0], "field": row[1], "records": row[2], "example": row[3]})
	}
	return map[string]any{"items": items}, nil
}

// rejectedRecord is one rejected record with its raw bytes (UTF-8 text, or base64 when not UTF-8).
type rejectedRecord struct {
	Topic          string    `json:"topic"`
	Partition      int64     `json:"partition"`
	Offset         int64     `json:"offset"`
	KafkaTimestamp time.Time `json:"kafka_timestamp,omitzero"`
	ReasonCode     string    `json:"reason_code"`
	Reason         string    `json:"reason"`
	Field          string    `json:"field,omitempty"`
	Key            string    `json:"key,omitempty"`
	Value          string    `json:"value"`
	ValueEncoding  string    `json:"value_encoding"`
}

func (m pipelines) rejected(r *api.Request) (any, error) {
	pl, err := m.p.pipeline(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	offset, limit, err := r.Paging()
	if err != nil {
		return nil, err
	}
	reason := r.URL.Query().Get("reason")
	if reason != "" && !reasonCode.MatchString(reason) {
		return nil, api.BadParam("reason", "expected a reason code (lower-case letters, digits and underscores), got %q", reason)
	}
	eng, err := m.p.engine(r.Context(), pl.Table.Name+stage.RejectedSuffix)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	tbl := quoteTable(pl.Table.Name + stage.RejectedSuffix)
	where := ""
	if reason != "" {
		where = fmt.Sprintf("where reason_code = '%s'", reason)
	}
	page := api.Page[rejectedRecord]{Offset: offset, Limit: limit, Items: []rejectedRecord{}}
	total, err := eng.Query(r.Context(), fmt.Sprintf("select count(*) from %s %s", tbl, where))
	if err != nil {
		if isMissingTable(err) {
			return page, nil
		}
		return nil, err
	}
	page.Total = int(total.Rows[0][0].(int64))
	res, err := eng.Query(r.Context(), fmt.Sprintf(`select _topic, _partition, _offset, _kafka_timestamp, reason_code, reason, field, key, value
		from %s %s order by _ingested_at desc, _topic, _partition, _offset limit %d offset %d`, tbl, where, limit, offset))
	if err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		rec := rejectedRecord{Topic: str(row[0]), Partition: toInt(row[1]), Offset: toInt(row[2]), ReasonCode: str(row[4]), Reason: str(row[5]), Field: str(row[6])}
		if ts, ok := row[3].(time.Time); ok {
			rec.KafkaTimestamp = ts.UTC()
		}
		rec.Key, _ = text(row[7])
		rec.Value, rec.ValueEncoding = text(row[8])
		page.Items = append(page.Items, rec)
	}
	return page, nil
}

func (m pipelines) completeness(r *api.Request) (any, error) {
	pl, err := m.p.pipeline(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if !pl.Completeness.Enabled() {
		return nil, api.NotFound("completeness report for pipeline", pl.Name+" (it has no completeness settings)")
	}
	eng, err := m.p.engine(r.Context(), pl.Table.Name)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	return completeness.Build(r.Context(), eng, pl.Table.Name, pl.Completeness.ProducerField, pl.Completeness.SeqField, 50)
}

func (m pipelines) pause(r *api.Request) (any, error) {
	pl, err := m.p.pipeline(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if m.p.Control == nil {
		return nil, api.Conflict("this process runs no pipelines (bigfather console): pause it where it runs")
	}
	if err := m.p.Control.Pause(pl.Name); err != nil {
		return nil, api.Conflict("%s", err.Error())
	}
	return map[string]string{"status": "paused"}, nil
}

func (m pipelines) resume(r *api.Request) (any, error) {
	pl, err := m.p.pipeline(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	action, err := r.OneOf("action", stage.ResumeRetry, stage.ResumeRetry, stage.ResumeSkip)
	if err != nil {
		return nil, err
	}
	if m.p.Control == nil {
		return nil, api.Conflict("this process runs no pipelines (bigfather console): resume it where it runs")
	}
	if err := m.p.Control.Resume(pl.Name, action); err != nil {
		return nil, api.Conflict("%s", err.Error())
	}
	return map[string]string{"status": "resumed"}, nil
}

var reasonCode = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// quoteTable quotes namespace.table for SQL.
func quoteTable(name string) string {
	ns, t, _ := strings.Cut(name, ".")
	return `"` + ns + `"."` + t + `"`
}

// isMissingTable reports a query on a table that does not exist yet.
func isMissingTable(err error) bool {
	return strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "not found")
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}

// text shows bytes as UTF-8 text when they are, else as base64.
func text(v any) (string, string) {
	b, ok := v.([]byte)
	if !ok {
		return str(v), "utf8"
	}
	if utf8.Valid(b) {
		return string(b), "utf8"
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}
