package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bigfather/bigfather/internal/lake"
)

// committedFile is a data file of a table's current snapshot with the commit time of the snapshot that added it.
type committedFile struct {
	path        string
	rows        int64
	committedMs int64 // the adding snapshot's timestamp-ms
}

// liveFiles lists the data files of t's current snapshot, each with the time its rows became visible: the
// timestamp of the snapshot that added it (manifest entries keep the adding snapshot's id).
func liveFiles(ctx context.Context, t *table.Table) ([]committedFile, error) {
	name := strings.Join(t.Identifier(), ".")
	snap := t.CurrentSnapshot()
	if snap == nil {
		return nil, nil
	}
	fsys, err := t.FS(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the file IO of %s: %w", name, err)
	}
	mfs, err := snap.Manifests(fsys)
	if err != nil {
		return nil, fmt.Errorf("reading the manifests of %s snapshot %d: %w", name, snap.SnapshotID, err)
	}
	var out []committedFile
	for _, mf := range mfs {
		if mf.ManifestContent() != iceberg.ManifestContentData {
			continue
		}
		entries, err := mf.FetchEntries(fsys, true)
		if err != nil {
			return nil, fmt.Errorf("reading manifest %s of %s: %w", mf.FilePath(), name, err)
		}
		for _, e := range entries {
			added := t.SnapshotByID(e.SnapshotID())
			if added == nil {
				return nil, fmt.Errorf("%s: data file %s was added by snapshot %d, which the table no longer lists",
					name, e.DataFile().FilePath(), e.SnapshotID())
			}
			out = append(out, committedFile{path: e.DataFile().FilePath(), rows: e.DataFile().Count(), committedMs: added.TimestampMs})
		}
	}
	return out, nil
}

// lastCommitMs is the latest timestamp among the snapshots of t, 0 when it has none.
func lastCommitMs(t *table.Table) int64 {
	var last int64
	for _, s := range t.Metadata().Snapshots() {
		last = max(last, s.TimestampMs)
	}
	return last
}

// readDelays appends to dst, for every row of files whose Kafka timestamp is at least fromMs, the time from
// that timestamp to the commit of the row's file, in milliseconds.
func readDelays(ctx context.Context, t *table.Table, files []committedFile, fromMs int64, dst []int64) ([]int64, error) {
	for _, f := range files {
		err := lake.ReadTableColumns(ctx, t, []string{f.path}, []string{"_kafka_timestamp"}, func(rec arrow.RecordBatch) error {
			col, ok := rec.Column(0).(*array.Timestamp)
			if !ok {
				return fmt.Errorf("_kafka_timestamp is %s, expected a timestamp", rec.Column(0).DataType())
			}
			unit := col.DataType().(*arrow.TimestampType).Unit
			for i := range col.Len() {
				if col.IsNull(i) {
					continue
				}
				if ts := col.Value(i).ToTime(unit).UnixMilli(); ts >= fromMs {
					dst = append(dst, f.committedMs-ts)
				}
			}
			return nil
		})
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// percentile returns the q-quantile (0 < q <= 1) of sorted by the nearest-rank method: the smallest value
// that at least a q share of the values do not exceed. It is 0 for no values.
func percentile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// delayPercentiles sorts delays (milliseconds) and returns their median and 99th percentile in seconds.
func delayPercentiles(delays []int64) (p50, p99 float64) {
	slices.Sort(delays)
	return float64(percentile(delays, 0.50)) / 1000, float64(percentile(delays, 0.99)) / 1000
}

// noopCommit is the first bucket bound of the commit-duration histogram Run observes with. The stage observes a
// table's commit also when the table had nothing to commit (no rows, no offsets), which takes microseconds;
// writing files or committing offsets to the catalog takes milliseconds. Observations up to this bound are those
// no-ops, and commitQuantiles leaves them out.
const noopCommit = 0.0002

// commitBuckets are the bucket bounds of the commit-duration histogram Run observes with: 0.2 ms to 10 min in
// steps of 3%, so that quantiles read from it are that precise (the exported metric's buckets double).
var commitBuckets = prometheus.ExponentialBucketsRange(noopCommit, 600, 500)

// commitQuantiles counts the commits of h that did something (longer than noopCommit) and estimates their
// median and 99th percentile, in seconds.
func commitQuantiles(h *dto.Histogram) (commits int64, p50, p99 float64) {
	var noops uint64
	var buckets []*dto.Bucket
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() <= noopCommit {
			noops = b.GetCumulativeCount()
			continue
		}
		buckets = append(buckets, &dto.Bucket{UpperBound: b.UpperBound,
			CumulativeCount: proto64(b.GetCumulativeCount() - noops)})
	}
	work := &dto.Histogram{SampleCount: proto64(h.GetSampleCount() - noops), Bucket: buckets}
	return int64(work.GetSampleCount()), histogramQuantile(0.50, work, noopCommit), histogramQuantile(0.99, work, noopCommit)
}

func proto64(v uint64) *uint64 { return &v }

// histogramQuantile estimates the q-quantile of a histogram as Prometheus's histogram_quantile does: it finds
// the bucket holding the rank q*count and interpolates linearly within it, the first bucket starting at
// lowest. It returns 0 for an empty histogram and the largest finite bound when the rank falls in the +Inf
// bucket.
func histogramQuantile(q float64, h *dto.Histogram, lowest float64) float64 {
	total := h.GetSampleCount()
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	lower, below := lowest, uint64(0)
	for _, b := range h.GetBucket() {
		upper, cum := b.GetUpperBound(), b.GetCumulativeCount()
		if math.IsInf(upper, 1) {
			break
		}
		if float64(cum) >= rank && cum > below {
			return lower + (upper-lower)*(rank-float64(below))/float64(cum-below)
		}
		lower, below = upper, cum
	}
	return lower
}

// histogramOf reads one series of a histogram vector.
func histogramOf(v *prometheus.HistogramVec, labels ...string) (*dto.Histogram, error) {
	m, ok := v.WithLabelValues(labels...).(prometheus.Metric)
	if !ok {
		return nil, fmt.Errorf("histogram %v is not a metric", labels)
	}
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return nil, fmt.Errorf("reading histogram %v: %w", labels, err)
	}
	return d.GetHistogram(), nil
}

// counterSum adds up every series of a counter vector.
func counterSum(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 16)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	var sum float64
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err == nil && d.Counter != nil {
			sum += d.Counter.GetValue()
		}
	}
	return sum
}

// resetPeakRSS resets the kernel's record of this process's peak resident set size (Linux); it reports
// whether it could.
func resetPeakRSS() bool { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil }

// peakRSS reads this process's peak resident set size in bytes (Linux VmHWM), or 0 where there is none.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return parseVmHWM(string(data))
}

// parseVmHWM reads the VmHWM line ("VmHWM:    12345 kB") of a /proc/PID/status text, in bytes; 0 if absent.
func parseVmHWM(status string) int64 {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
