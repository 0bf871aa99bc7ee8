package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/monitor"
	"github.com/bigfather/bigfather/internal/stage"
)

// staging is one pipeline staging in this process (stage.Run on its own goroutine).
type staging struct {
	cancel context.CancelFunc
	done   chan error
	ended  bool  // done was received
	err    error // what stage.Run returned, once ended
}

// startStaging runs stage.Run with opts until stop.
func startStaging(ctx context.Context, opts stage.Options) *staging {
	ctx, cancel := context.WithCancel(ctx)
	s := &staging{cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- stage.Run(ctx, opts) }()
	return s
}

// stop ends the pipeline and waits for it; it returns what stage.Run returned, unless that was the stop itself.
// Calling it again returns the same.
func (s *staging) stop() error {
	s.cancel()
	if !s.ended {
		s.err, s.ended = <-s.done, true
	}
	if errors.Is(s.err, context.Canceled) {
		return nil
	}
	return s.err
}

// stoppedEarly is the error for a pipeline that stopped on its own, err being what stage.Run returned.
func (s *staging) stoppedEarly(err error) error {
	s.err, s.ended = err, true
	if err == nil {
		return errors.New("staging stopped before every record was committed")
	}
	return fmt.Errorf("staging stopped before every record was committed: %w", err)
}

// pollEvery is how often the waits look at the metrics and the tables.
const pollEvery = 10 * time.Millisecond

// waitAccounted waits until the metrics account for total records: rows committed to the main table, plus
// records rejected, dropped as duplicates and filtered. It fails if the count stands still for stallTimeout.
func (s *staging) waitAccounted(ctx context.Context, m *monitor.Metrics, p *config.Pipeline, total int) error {
	committed := m.RowsCommitted.WithLabelValues(p.Name, p.Table.Name)
	count := func() int64 {
		return int64(counterSum(committed) + counterSum(m.RowsRejected) + counterSum(m.Duplicates) + counterSum(m.RowsFiltered))
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	last, since := int64(-1), time.Now()
	for {
		got := count()
		if got >= int64(total) {
			return nil
		}
		if got != last {
			last, since = got, time.Now()
		} else if time.Since(since) > stallTimeout {
			return fmt.Errorf("staging made no progress for %s: %d of %d records accounted for (committed to %s, rejected, duplicates or filtered)",
				stallTimeout, got, total, p.Table.Name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.done:
			return s.stoppedEarly(err)
		case <-tick.C:
		}
	}
}

// waitCaughtUp waits until every table of the pipeline stores ends as its next offsets: the rejected and route
// tables commit after the main table.
func (s *staging) waitCaughtUp(ctx context.Context, lk *lake.Lake, p *config.Pipeline, tables []tableRef, ends lake.Offsets) error {
	caughtUp := func() (bool, error) {
		for _, ref := range tables {
			t, err := lk.LoadTable(ctx, ref.name)
			if err != nil {
				return false, err
			}
			stored := lake.StoredOffsets(t, p.Name)
			for tp, end := range ends {
				if end > 0 && stored.Get(tp) != end {
					return false, nil
				}
			}
		}
		return true, nil
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	deadline := time.Now().Add(stallTimeout)
	for {
		ok, err := caughtUp()
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("the tables of pipeline %s did not store the topic's end offsets within %s of its rows", p.Name, stallTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.done:
			return s.stoppedEarly(err)
		case <-tick.C:
		}
	}
}

// waitAssigned waits until the pipeline's consumer group is stable with every partition of topic assigned.
func (s *staging) waitAssigned(ctx context.Context, adm *kadm.Client, group, topic string, partitions int) error {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	deadline := time.Now().Add(stallTimeout)
	for {
		if assigned(ctx, adm, group, topic) == partitions {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("consumer group %s did not get the %d partitions of %s within %s", group, partitions, topic, stallTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.done:
			return s.stoppedEarly(err)
		case <-tick.C:
		}
	}
}

// assigned counts the partitions of topic assigned in group when it is stable, 0 otherwise.
func assigned(ctx context.Context, adm *kadm.Client, group, topic string) int {
	groups, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return 0
	}
	g, ok := groups[group]
	if !ok || g.Err != nil || g.State != "Stable" {
		return 0
	}
	n := 0
	for _, m := range g.Members {
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				if t.Topic == topic {
					n += len(t.Partitions)
				}
			}
		}
	}
	return n
}
