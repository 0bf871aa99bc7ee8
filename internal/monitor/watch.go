package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
)

// RecordTimer finds the Kafka timestamp of the record at each partition's offset (kafkaview.View does).
type RecordTimer interface {
	RecordTimes(ctx context.Context, topic string, offsets map[int32]int64) (map[int32]time.Time, error)
}

// WatchOptions are what a Watcher samples.
type WatchOptions struct {
	// Settings is the config's monitor block.
	Settings config.Monitor
	// Pipelines are the pipelines judged: every pipeline of the config, whichever process runs it.
	Pipelines []*config.Pipeline
	// Local are the pipelines this process runs (their signals come from Metrics, Health and Paused).
	Local []string
	// SmallFileSize is the size under which a data file counts as small (3/4 of maintenance.target_file_size).
	SmallFileSize int64
	Lake          *lake.Lake
	// Admin and Times reach the cluster; nil Admin: no cluster to watch.
	Admin   *kadm.Client
	Times   RecordTimer
	Metrics *Metrics
	Health  *Health
	// Paused, when set, says whether an operator paused a local pipeline.
	Paused func(pipeline string) bool
	// Prober sends probe records through the pipelines that ask for them (nil: none).
	Prober *Prober
	// Store keeps history and signals in the platform database (nil: this process only, in memory).
	Store    *Store
	History  *History
	Instance string
	Log      *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Watcher samples the pipelines, the consumer groups and the infrastructure every interval, judges them with
// the status rules, exports the results as metrics, records history and keeps the last Report. It is safe for
// concurrent use.
type Watcher struct {
	o WatchOptions

	sampling sync.Mutex // one Sample at a time: it owns windows, prevSig, times, gauges, pruned and small
	mu       sync.Mutex // guards report
	report   Report
	windows  map[string][]Observation // by series key
	prevSig  map[string]float64       // pipeline/instance → consumed at the sample before
	times    map[string]time.Time     // topic/partition/offset → record time, for lag seconds
	gauges   *seriesSet
	pruned   time.Time
	small    map[string]smallCount // table → small files of its current snapshot
}

// smallCount is a table's small-file count at one snapshot: planning the files reads every manifest, so it is
// done again only when the snapshot changes.
type smallCount struct {
	snapshot int64
	n        int
}

// NewWatcher returns a watcher; Run starts it.
func NewWatcher(o WatchOptions) *Watcher {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{o: o, windows: map[string][]Observation{}, prevSig: map[string]float64{}, times: map[string]time.Time{},
		gauges: newSeriesSet(), small: map[string]smallCount{}}
}

// Run samples every interval until ctx ends. This process's signals are written every interval too, apart
// from the samples, so a slow sample never makes the process look gone to the other processes' monitors.
func (w *Watcher) Run(ctx context.Context) {
	go w.beatLoop(ctx)
	t := time.NewTicker(w.o.Settings.Interval)
	defer t.Stop()
	for {
		w.Sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *Watcher) beatLoop(ctx context.Context) {
	t := time.NewTicker(w.o.Settings.Interval)
	defer t.Stop()
	for {
		bctx, cancel := context.WithTimeout(ctx, w.sampleTimeout())
		w.beat(bctx, w.o.Now())
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Report returns the last sample's report.
func (w *Watcher) Report() Report {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.report
}

// sampleTimeout bounds one sample's calls to the cluster and the stores.
func (w *Watcher) sampleTimeout() time.Duration {
	return max(w.o.Settings.Interval, 2*time.Second)
}

// Sample takes one sample now: it judges everything, updates the metrics, records history and signals.
func (w *Watcher) Sample(ctx context.Context) {
	w.sampling.Lock()
	defer w.sampling.Unlock()
	ctx, cancel := context.WithTimeout(ctx, w.sampleTimeout())
	defer cancel()
	now := w.o.Now()
	r := Report{At: now.UTC(), IntervalSeconds: w.o.Settings.Interval.Seconds(), Window: w.o.Settings.Window,
		Pipelines: []PipelineReport{}, Groups: []GroupReport{}, Kafka: KafkaReport{Brokers: []BrokerReport{}}}

	var ends map[string]map[int32]int64
	var kafkaErr error
	if w.o.Admin != nil {
		r.Kafka, kafkaErr = w.cluster(ctx)
		ends, kafkaErr = w.endOffsets(ctx, kafkaErr)
	} else {
		kafkaErr = errors.New("no Kafka brokers configured")
	}
	judged := map[string]Point{}
	w.gauges.begin()
	for _, p := range w.o.Pipelines {
		pr := w.pipeline(ctx, now, p, ends, kafkaErr)
		r.Pipelines = append(r.Pipelines, pr)
		judged[p.Name] = Point{Lag: pr.Lag, LagSeconds: pr.LagSeconds, Status: pr.Status, FreshnessSeconds: mainFreshness(pr)}
	}
	if w.o.Admin != nil && w.o.Settings.Groups && kafkaErr == nil {
		r.Groups = w.groups(ctx, now)
	}
	r.Checks = w.checks(ctx, r, kafkaErr)
	w.export(r)
	w.gauges.end()
	w.mu.Lock()
	w.report = r
	w.mu.Unlock()
	if w.o.History != nil {
		w.o.History.Sample(ctx, now, judged)
	}
	w.prune(ctx, now)
}

// mainFreshness is the freshness of a pipeline's main table (its first).
func mainFreshness(pr PipelineReport) float64 {
	if len(pr.Tables) == 0 {
		return 0
	}
	return pr.Tables[0].FreshnessSeconds
}

// beat writes this process's signals for its local pipelines.
func (w *Watcher) beat(ctx context.Context, now time.Time) {
	if w.o.Store == nil {
		return
	}
	for _, name := range w.o.Local {
		if err := w.o.Store.Beat(ctx, w.localSignal(name, now)); err != nil {
			w.o.Log.Warn("monitor signal not saved", "pipeline", name, "err", err)
		}
	}
}

// localSignal is this process's signal for a pipeline it runs.
func (w *Watcher) localSignal(name string, now time.Time) Signal {
	sg := Signal{Pipeline: name, Instance: w.o.Instance, At: now}
	sg.Consumed = counterValue(w.o.Metrics.RecordsConsumed.WithLabelValues(name))
	if w.o.Health != nil {
		st := w.o.Health.Statuses()[name]
		switch st.State {
		case "failing":
			sg.Failing, sg.FailingSince, sg.Detail = true, st.ErrorSince, st.LastError
		case "paused":
			sg.Paused, sg.Detail = true, st.LastError
		}
	}
	if w.o.Paused != nil && w.o.Paused(name) {
		sg.Paused = true
		if sg.Detail == "" {
			sg.Detail = "paused by an operator"
		}
	}
	return sg
}

// signals are a pipeline's signals from every live process: this one's directly, the others' from the store.
func (w *Watcher) signals(ctx context.Context, name string, now time.Time) []Signal {
	var out []Signal
	if slices.Contains(w.o.Local, name) {
		out = append(out, w.localSignal(name, now))
	}
	if w.o.Store == nil {
		return out
	}
	remote, err := w.o.Store.Signals(ctx, name, now.Add(-w.liveFor()))
	if err != nil {
		w.o.Log.Warn("monitor signals unreadable", "pipeline", name, "err", err)
		return out
	}
	for _, sg := range remote {
		if sg.Instance != w.o.Instance {
			out = append(out, sg)
		}
	}
	return out
}

// liveFor is how recent a process's signal must be for the process to count as running the pipeline.
func (w *Watcher) liveFor() time.Duration {
	return max(3*w.o.Settings.Interval, 3*time.Second)
}

// cluster reads the cluster's brokers, topics and partitions.
func (w *Watcher) cluster(ctx context.Context) (KafkaReport, error) {
	kr := KafkaReport{Brokers: []BrokerReport{}}
	md, err := w.o.Admin.Metadata(ctx)
	if err != nil {
		kr.Error = fmt.Sprintf("reading the cluster metadata: %v", err)
		return kr, fmt.Errorf("kafka: reading the cluster metadata: %w", err)
	}
	reach := map[int32]error{}
	if vs, err := w.o.Admin.ApiVersions(ctx); err == nil {
		vs.Each(func(v kadm.BrokerApiVersions) { reach[v.NodeID] = v.Err })
	}
	reachable := 0
	for _, b := range md.Brokers {
		br := BrokerReport{ID: b.NodeID, Address: b.Host + ":" + strconv.Itoa(int(b.Port))}
		berr, asked := reach[b.NodeID]
		br.Reachable = asked && berr == nil
		switch {
		case !asked:
			br.Error = "no answer"
		case berr != nil:
			br.Error = berr.Error()
		default:
			reachable++
		}
		kr.Brokers = append(kr.Brokers, br)
	}
	for _, t := range md.Topics {
		if t.IsInternal || t.Err != nil {
			continue
		}
		kr.Topics++
		for _, p := range t.Partitions {
			kr.Partitions++
			if p.Leader < 0 {
				kr.Offline++
			}
			if len(p.ISR) < len(p.Replicas) {
				kr.UnderReplicated++
			}
		}
	}
	if reachable == 0 {
		kr.Error = "no broker answers"
		return kr, fmt.Errorf("kafka: none of the %d brokers answers", len(md.Brokers))
	}
	return kr, nil
}

// endOffsets lists the high watermarks of the pipelines' topics.
func (w *Watcher) endOffsets(ctx context.Context, kafkaErr error) (map[string]map[int32]int64, error) {
	if kafkaErr != nil {
		return nil, kafkaErr
	}
	var topics []string
	for _, p := range w.o.Pipelines {
		topics = append(topics, p.Topics...)
	}
	slices.Sort(topics)
	topics = slices.Compact(topics)
	listed, err := w.o.Admin.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("kafka: listing end offsets: %w", err)
	}
	out := map[string]map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			return
		}
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.Offset
	})
	return out, nil
}

// pipeline judges one pipeline.
func (w *Watcher) pipeline(ctx context.Context, now time.Time, p *config.Pipeline, ends map[string]map[int32]int64, kafkaErr error) PipelineReport {
	pr := PipelineReport{Name: p.Name, Status: StatusOK, Partitions: []PartitionReport{}, Tables: []TableReport{}}
	sigs := w.signals(ctx, p.Name, now)
	consuming := false
	for _, sg := range sigs {
		key := p.Name + "\x00" + sg.Instance
		if prev, ok := w.prevSig[key]; ok && sg.Consumed > prev {
			consuming = true
		}
		w.prevSig[key] = sg.Consumed
		pr.Processes++
		if sg.Failing {
			pr.Failing = true
			pr.Detail = sg.Detail
		}
		if sg.Paused {
			pr.Paused = true
			if !pr.Failing {
				pr.Detail = sg.Detail
			}
		}
	}
	if r, ok := w.o.Prober.Report(p.Name); ok {
		pr.Probe = &r
	}
	main, err := w.o.Lake.LoadTable(ctx, p.Table.Name)
	var stored lake.Offsets
	if err != nil {
		pr.Error = fmt.Sprintf("reading table %s: %v", p.Table.Name, err)
	} else {
		stored = lake.StoredOffsets(main, p.Name)
	}
	if kafkaErr != nil && pr.Error == "" {
		pr.Error = kafkaErr.Error()
	}
	var statuses []Status
	if ends != nil && main != nil {
		for _, topic := range p.Topics {
			parts := ends[topic]
			ids := make([]int32, 0, len(parts))
			for id := range parts {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			waiting := map[int32]int64{}
			for _, id := range ids {
				committed, ok := stored[lake.TopicPartition{Topic: topic, Partition: id}]
				if !ok {
					committed = -1
				}
				o := Observation{At: now, Committed: committed, End: parts[id], Consuming: consuming, Failing: pr.Failing, Paused: pr.Paused}
				key := "p\x00" + p.Name + "\x00" + topic + "\x00" + strconv.Itoa(int(id))
				st := w.observe(key, o)
				part := PartitionReport{Topic: topic, Partition: id, Status: st, Committed: committed, End: o.End, Lag: o.Lag()}
				if part.Lag > 0 {
					waiting[id] = max(committed, 0)
				}
				pr.Partitions = append(pr.Partitions, part)
				statuses = append(statuses, st)
			}
			w.lagSeconds(ctx, now, topic, waiting, pr.Partitions)
		}
	}
	for i := range pr.Partitions {
		pr.Lag += pr.Partitions[i].Lag
		pr.LagSeconds = max(pr.LagSeconds, pr.Partitions[i].LagSeconds)
	}
	pr.Status = Worst(statuses...)
	if len(statuses) == 0 && pr.Paused {
		pr.Status = StatusPaused
	}
	if ends == nil || main == nil {
		// Not judged this time (the broker or the table unreadable): the last verdict stands, with the error.
		for _, prev := range w.Report().Pipelines {
			if prev.Name == p.Name {
				pr.Status, pr.Partitions, pr.Lag, pr.LagSeconds = prev.Status, prev.Partitions, prev.Lag, prev.LagSeconds
			}
		}
	}
	for _, name := range pipelineTables(p) {
		t := main
		if name != p.Table.Name || t == nil {
			if t, err = w.o.Lake.LoadTable(ctx, name); err != nil {
				if name == p.Table.Name {
					pr.Tables = append(pr.Tables, TableReport{Name: name, Error: err.Error()})
				}
				continue // a route or rejected table that no record reached yet
			}
		}
		pr.Tables = append(pr.Tables, w.table(ctx, now, t, name, p.Name, pr))
	}
	return pr
}

// pipelineTables are the tables a pipeline writes, main first.
func pipelineTables(p *config.Pipeline) []string {
	out := []string{p.Table.Name}
	for _, r := range p.Routes {
		if !slices.Contains(out, r.Table) {
			out = append(out, r.Table)
		}
	}
	return append(out, p.Table.Name+"_rejected")
}

// observe appends an observation to a series' window and judges it.
func (w *Watcher) observe(key string, o Observation) Status {
	obs := append(w.windows[key], o)
	if n := w.o.Settings.Window; len(obs) > n {
		obs = obs[len(obs)-n:]
	}
	w.windows[key] = obs
	return Evaluate(obs, w.o.Settings.Window)
}

// lagSeconds fills in the age of the oldest waiting record of each waiting partition of topic.
func (w *Watcher) lagSeconds(ctx context.Context, now time.Time, topic string, waiting map[int32]int64, parts []PartitionReport) {
	if len(waiting) == 0 || w.o.Times == nil {
		return
	}
	found := map[int32]time.Time{}
	ask := map[int32]int64{}
	for id, off := range waiting {
		if t, ok := w.times[timeKey(topic, id, off)]; ok {
			found[id] = t
		} else {
			ask[id] = off
		}
	}
	if len(ask) > 0 {
		got, err := w.o.Times.RecordTimes(ctx, topic, ask)
		if err != nil {
			w.o.Log.Debug("record times unreadable", "topic", topic, "err", err)
		}
		for id, t := range got {
			found[id] = t
			w.times[timeKey(topic, id, ask[id])] = t
		}
	}
	for i := range parts {
		if parts[i].Topic != topic {
			continue
		}
		if t, ok := found[parts[i].Partition]; ok && parts[i].Lag > 0 {
			parts[i].LagSeconds = max(now.Sub(t).Seconds(), 0)
		}
	}
}

func timeKey(topic string, p int32, off int64) string {
	return topic + "\x00" + strconv.Itoa(int(p)) + "\x00" + strconv.FormatInt(off, 10)
}

// table reports one table of a pipeline.
func (w *Watcher) table(ctx context.Context, now time.Time, t *table.Table, name, pipeline string, pr PipelineReport) TableReport {
	tr := TableReport{Name: name}
	tr.LastCommit, tr.NewestEvent = lake.Freshness(t, pipeline)
	switch {
	case pr.Lag == 0 && len(pr.Partitions) > 0:
		tr.FreshnessSeconds = 0
	case !tr.LastCommit.IsZero():
		tr.FreshnessSeconds = max(now.Sub(tr.LastCommit).Seconds(), 0)
	default:
		tr.FreshnessSeconds = pr.LagSeconds
	}
	if !tr.NewestEvent.IsZero() {
		tr.EventAgeSeconds = max(now.Sub(tr.NewestEvent).Seconds(), 0)
	}
	md := t.Metadata()
	tr.Snapshots = len(md.Snapshots())
	for _, s := range md.Snapshots() {
		if s.Summary != nil && s.Summary.Properties[lake.MaintenanceProperty] != "" {
			if at := time.UnixMilli(s.TimestampMs); at.After(tr.LastMaintenance) {
				tr.LastMaintenance = at
			}
		}
	}
	if snap := t.CurrentSnapshot(); snap != nil && snap.Summary != nil {
		tr.DataFiles, _ = strconv.Atoi(snap.Summary.Properties["total-data-files"])
	}
	tr.SmallFiles = w.smallFiles(ctx, name, t)
	return tr
}

// smallFiles counts the current snapshot's data files under the small-file size; -1 when unknown.
func (w *Watcher) smallFiles(ctx context.Context, name string, t *table.Table) int {
	snap := t.CurrentSnapshot()
	if w.o.SmallFileSize <= 0 || snap == nil {
		return 0
	}
	if c, ok := w.small[name]; ok && c.snapshot == snap.SnapshotID {
		return c.n
	}
	tasks, err := t.Scan().PlanFiles(ctx)
	if err != nil {
		return -1
	}
	n := 0
	for _, task := range tasks {
		if task.File.FileSizeBytes() < w.o.SmallFileSize {
			n++
		}
	}
	w.small[name] = smallCount{snapshot: snap.SnapshotID, n: n}
	return n
}

// groups judges every consumer group on the cluster that is not a pipeline's.
func (w *Watcher) groups(ctx context.Context, now time.Time) []GroupReport {
	ours := map[string]bool{}
	for _, p := range w.o.Pipelines {
		ours[p.Group] = true
	}
	listed, err := w.o.Admin.ListGroups(ctx)
	if err != nil {
		w.o.Log.Debug("consumer groups unreadable", "err", err)
		return []GroupReport{}
	}
	var names []string
	for _, g := range listed.Groups() {
		if !ours[g] {
			names = append(names, g)
		}
	}
	sort.Strings(names)
	out := []GroupReport{}
	if len(names) == 0 {
		return out
	}
	lags, err := w.o.Admin.Lag(ctx, names...)
	if err != nil {
		w.o.Log.Debug("consumer group lag unreadable", "err", err)
		return out
	}
	for _, name := range names {
		l, ok := lags[name]
		if !ok {
			continue
		}
		gr := GroupReport{Group: name, State: l.State, Members: len(l.Members), Status: StatusOK, Partitions: []PartitionReport{}}
		if err := l.Error(); err != nil {
			gr.Error = err.Error()
			out = append(out, gr)
			continue
		}
		var statuses []Status
		topics := make([]string, 0, len(l.Lag))
		for t := range l.Lag {
			topics = append(topics, t)
		}
		sort.Strings(topics)
		for _, topic := range topics {
			ps := l.Lag[topic]
			ids := make([]int32, 0, len(ps))
			for id := range ps {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			waiting := map[int32]int64{}
			for _, id := range ids {
				ml := ps[id]
				if ml.Err != nil || ml.Commit.At < 0 {
					continue // nothing committed for this partition: the group does not read it
				}
				o := Observation{At: now, Committed: ml.Commit.At, End: ml.End.Offset}
				st := w.observe("g\x00"+name+"\x00"+topic+"\x00"+strconv.Itoa(int(id)), o)
				part := PartitionReport{Topic: topic, Partition: id, Status: st, Committed: o.Committed, End: o.End, Lag: o.Lag()}
				if part.Lag > 0 {
					waiting[id] = o.Committed
				}
				gr.Partitions = append(gr.Partitions, part)
				statuses = append(statuses, st)
			}
			w.lagSeconds(ctx, now, topic, waiting, gr.Partitions)
		}
		for _, p := range gr.Partitions {
			gr.Lag += p.Lag
			gr.LagSeconds = max(gr.LagSeconds, p.LagSeconds)
		}
		gr.Status = Worst(statuses...)
		out = append(out, gr)
	}
	return out
}

// checks are the readiness checks, from this sample.
func (w *Watcher) checks(ctx context.Context, r Report, kafkaErr error) []Check {
	out := []Check{{Name: "kafka", OK: kafkaErr == nil}}
	if kafkaErr != nil {
		out[0].Message = kafkaErr.Error()
	}
	cat := Check{Name: "catalog", OK: true}
	if err := w.o.Lake.ProbeCatalog(ctx); err != nil {
		cat.OK, cat.Message = false, err.Error()
	}
	wh := Check{Name: "warehouse", OK: true}
	if err := w.o.Lake.ProbeWarehouse(ctx); err != nil {
		wh.OK, wh.Message = false, err.Error()
	}
	out = append(out, cat, wh, w.pipelinesCheck())
	return out
}

// pipelinesCheck says whether every pipeline this process runs is running (or paused by its policy).
func (w *Watcher) pipelinesCheck() Check {
	c := Check{Name: "pipelines", OK: true}
	if w.o.Health == nil {
		return c
	}
	sts := w.o.Health.Statuses()
	var bad []string
	for _, name := range w.o.Local {
		st, ok := sts[name]
		switch {
		case !ok || st.State == "starting":
			bad = append(bad, "pipeline "+name+" is starting")
		case st.State == "failing":
			bad = append(bad, fmt.Sprintf("pipeline %s failing since %s: %s", name, st.ErrorSince.UTC().Format(time.RFC3339), st.LastError))
		}
	}
	if len(bad) > 0 {
		c.OK, c.Message = false, strings.Join(bad, "; ")
	}
	return c
}

// Ready runs the readiness checks now (not from the last sample), for /readyz.
func (w *Watcher) Ready(ctx context.Context) []Check {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var kafkaErr error
	if w.o.Admin == nil {
		kafkaErr = errors.New("no Kafka brokers configured")
	} else {
		_, kafkaErr = w.cluster(ctx)
	}
	return w.checks(ctx, Report{}, kafkaErr)
}

// export sets the metrics from a report.
func (w *Watcher) export(r Report) {
	m, g := w.o.Metrics, w.gauges
	for _, p := range r.Pipelines {
		for _, part := range p.Partitions {
			pl := strconv.Itoa(int(part.Partition))
			g.set(m.ConsumerLag, float64(part.Lag), p.Name, part.Topic, pl)
			g.set(m.LagSeconds, part.LagSeconds, p.Name, part.Topic, pl)
			for _, s := range Statuses {
				g.set(m.PartitionStatus, boolFloat(s == part.Status), p.Name, part.Topic, pl, string(s))
			}
		}
		for _, s := range Statuses {
			g.set(m.PipelineStatus, boolFloat(s == p.Status), p.Name, string(s))
		}
		for _, t := range p.Tables {
			if t.Error != "" {
				continue
			}
			g.set(m.TableFreshness, t.FreshnessSeconds, t.Name)
			if !t.NewestEvent.IsZero() {
				g.set(m.TableEventAge, t.EventAgeSeconds, t.Name)
			}
		}
	}
	for _, gr := range r.Groups {
		if gr.Error != "" {
			continue
		}
		for _, s := range Statuses {
			g.set(m.GroupStatus, boolFloat(s == gr.Status), gr.Group, string(s))
		}
		g.set(m.GroupLag, float64(gr.Lag), gr.Group)
		g.set(m.GroupLagSeconds, gr.LagSeconds, gr.Group)
	}
	for _, c := range r.Checks {
		g.set(m.ReadyCheck, boolFloat(c.OK), c.Name)
	}
	reachable := 0
	for _, b := range r.Kafka.Brokers {
		if b.Reachable {
			reachable++
		}
	}
	g.set(m.KafkaBrokers, float64(reachable), "reachable")
	g.set(m.KafkaBrokers, float64(len(r.Kafka.Brokers)-reachable), "unreachable")
	m.KafkaTopics.Set(float64(r.Kafka.Topics))
	m.KafkaPartitions.Set(float64(r.Kafka.Partitions))
	m.KafkaUnderRepl.Set(float64(r.Kafka.UnderReplicated))
	m.KafkaOffline.Set(float64(r.Kafka.Offline))
}

// prune drops old history and signals, and forgets windows of series gone, once per history span / 100.
func (w *Watcher) prune(ctx context.Context, now time.Time) {
	if now.Sub(w.pruned) < max(w.o.Settings.History/100, time.Minute) {
		return
	}
	w.pruned = now
	if len(w.times) > 10_000 {
		clear(w.times)
	}
	if w.o.Store != nil {
		if err := w.o.Store.Prune(ctx, now.Add(-w.o.Settings.History)); err != nil {
			w.o.Log.Warn("monitor history not pruned", "err", err)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// seriesSet remembers which series of which gauge vectors a sample set, so series the next sample does not
// set (a group deleted, a partition revoked) are removed instead of keeping their last value.
type seriesSet struct {
	prev, cur map[*prometheus.GaugeVec]map[string][]string
}

func newSeriesSet() *seriesSet {
	return &seriesSet{prev: map[*prometheus.GaugeVec]map[string][]string{}}
}

func (s *seriesSet) begin() { s.cur = map[*prometheus.GaugeVec]map[string][]string{} }

func (s *seriesSet) set(v *prometheus.GaugeVec, value float64, labels ...string) {
	v.WithLabelValues(labels...).Set(value)
	if s.cur[v] == nil {
		s.cur[v] = map[string][]string{}
	}
	s.cur[v][strings.Join(labels, "\x00")] = labels
}

func (s *seriesSet) end() {
	for v, series := range s.prev {
		for key, labels := range series {
			if _, ok := s.cur[v][key]; !ok {
				v.DeleteLabelValues(labels...)
			}
		}
	}
	s.prev = s.cur
}

// counterValue reads a counter's current value.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
