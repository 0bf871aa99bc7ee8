package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/bigfather/bigfather/internal/demo"
)

func cmdDemoProduce(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("demo produce", stderr)
	brokers := fs.String("brokers", "127.0.0.1:9092", "comma-separated seed brokers")
	topic := fs.String("topic", demo.DefaultTopic, "topic to produce to")
	rate := fs.Int("rate", 0, "events per second (0: as fast as possible)")
	count := fs.Int("count", 0, "events to produce (0: until interrupted)")
	seed := fs.Int64("seed", 0, "generator seed (0: random)")
	players := fs.Int("players", demo.DefaultPlayers, "players in the game world")
	malformed := fs.Float64("malformed-rate", 0, "chance of an extra malformed record after each event (0 to 1)")
	duplicates := fs.Float64("duplicate-rate", 0, "chance of producing an event twice (0 to 1)")
	gaps := fs.Float64("gap-rate", 0, "chance of losing an event before Kafka, leaving a client_seq gap (0 to 1)")
	allEvents := fs.String("all-events", "", "write every generated event, dropped ones too, as JSON lines to `FILE`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *rate < 0 || *count < 0 || *players <= 0 {
		return usagef("--rate and --count must not be negative and --players must be positive")
	}
	for _, r := range []float64{*malformed, *duplicates, *gaps} {
		if !(r >= 0 && r <= 1) {
			return usagef("--malformed-rate, --duplicate-rate and --gap-rate must be between 0 and 1")
		}
	}
	opts := demo.ProduceOptions{Brokers: splitList(*brokers), Topic: *topic, Rate: *rate, Count: *count,
		Seed: *seed, Players: *players, Live: true, MalformedRate: *malformed, DuplicateRate: *duplicates,
		GapRate: *gaps, Logger: log}
	var all *os.File
	if *allEvents != "" {
		var err error
		if all, err = os.Create(*allEvents); err != nil {
			return err
		}
		defer all.Close()
		opts.AllEvents = all
	}
	st, err := demo.Produce(ctx, opts)
	fmt.Fprintf(stdout, "produced %d events to %s (%d malformed, %d duplicates, %d dropped)\n",
		st.Valid, *topic, st.Malformed, st.Duplicates, st.Dropped)
	if all != nil {
		if cerr := all.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("writing %s: %w", *allEvents, cerr)
		}
	}
	if ctx.Err() != nil && *count == 0 {
		return nil
	}
	return err
}
