package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

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
	if err := parse(fs, args); err != nil {
		return err
	}
	if *rate < 0 || *count < 0 || *players <= 0 {
		return usagef("--rate and --count must not be negative and --players must be positive")
	}
	n, err := demo.Produce(ctx, demo.ProduceOptions{Brokers: splitList(*brokers), Topic: *topic, Rate: *rate, Count: *count,
		Seed: *seed, Players: *players, Live: true, Logger: log})
	fmt.Fprintf(stdout, "produced %d events to %s\n", n, *topic)
	if ctx.Err() != nil && *count == 0 {
		return nil
	}
	return err
}
