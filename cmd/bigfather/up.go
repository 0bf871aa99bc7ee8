package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/demo"
)

// demoHistoryPlayers is the population of the demo history: small enough that players come back on later
// days, so retention has cohorts to show.
const demoHistoryPlayers = 2000

func cmdUp(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("up", stderr)
	cfgPath := fs.String("config", "", "config file (default: embedded defaults under --data)")
	dataDir := fs.String("data", "./data", "data directory for the embedded broker, catalog and warehouse")
	httpAddr := fs.String("http", "", "HTTP address (default: the config's http, 127.0.0.1:8080)")
	brokerAddr := fs.String("broker-listen", broker.DefaultListen, "embedded broker address, when no brokers are configured")
	withDemo := fs.Bool("demo", false, "play a demo game world into the first pipeline's first topic")
	insecure := fs.Bool("insecure", false, "serve a non-loopback --http address without auth configured")
	demoRate := fs.Int("demo-rate", 2000, "demo events per second")
	demoMalformed := fs.Float64("demo-malformed-rate", 0.005, "chance of an extra malformed demo record after each event")
	demoDuplicates := fs.Float64("demo-duplicate-rate", 0.01, "chance of producing a demo event twice")
	demoGaps := fs.Float64("demo-gap-rate", 0.002, "chance of losing a demo event before Kafka")
	demoHistory := boundedDuration(fs, "demo-history", 14*24*time.Hour, 0, 365*24*time.Hour, "days of demo history produced first, so day-based metrics such as retention have something to show (0 for none)")
	demoHistoryEvents := fs.Int("demo-history-events", 150000, "events in the demo history")
	if err := parse(fs, args); err != nil {
		return err
	}
	for _, r := range []float64{*demoMalformed, *demoDuplicates, *demoGaps} {
		if !(r >= 0 && r <= 1) {
			return usagef("--demo-malformed-rate, --demo-duplicate-rate and --demo-gap-rate must be between 0 and 1")
		}
	}
	cfg, err := loadConfig(*cfgPath, *dataDir, true)
	if err != nil {
		return err
	}
	brokers := cfg.Kafka.Brokers
	if len(brokers) == 0 {
		b, err := broker.Start(broker.Options{Listen: *brokerAddr, DataDir: filepath.Join(*dataDir, "broker"), Logger: log})
		if err != nil {
			return err
		}
		defer b.Close()
		brokers = []string{b.Addr()}
		log.Info("embedded DEVELOPMENT broker started", "addr", b.Addr())
	}
	addr := cfg.HTTP
	if *httpAddr != "" {
		addr = *httpAddr
	}
	pipes, _ := selectPipelines(cfg, "")
	var extra func(context.Context) error
	if *withDemo && len(pipes) > 0 {
		topic := pipes[0].Topics[0]
		extra = func(ctx context.Context) error {
			if *demoHistory > 0 && *demoHistoryEvents > 0 {
				log.Info("producing the demo history", "topic", topic, "span", demoHistory.String(), "events", *demoHistoryEvents)
				_, err := demo.Produce(ctx, demo.ProduceOptions{Brokers: brokers, Topic: topic, Count: *demoHistoryEvents, Span: *demoHistory,
					Players: demoHistoryPlayers, MalformedRate: *demoMalformed, DuplicateRate: *demoDuplicates, GapRate: *demoGaps, Logger: log})
				if ctx.Err() != nil {
					return nil
				}
				if err != nil {
					return fmt.Errorf("producing the demo history: %w", err)
				}
			}
			log.Info("demo producer started", "topic", topic, "rate", *demoRate, "malformed_rate", *demoMalformed,
				"duplicate_rate", *demoDuplicates, "gap_rate", *demoGaps)
			_, err := demo.Produce(ctx, demo.ProduceOptions{Brokers: brokers, Topic: topic, Rate: *demoRate, Live: true,
				MalformedRate: *demoMalformed, DuplicateRate: *demoDuplicates, GapRate: *demoGaps, Logger: log})
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return runStaging(ctx, cfg, brokers, pipes, stagingOptions{httpAddr: addr, insecure: *insecure, extra: extra}, log)
}
