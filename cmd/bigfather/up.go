package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/bigfather/bigfather/internal/broker"
	"github.com/bigfather/bigfather/internal/demo"
)

func cmdUp(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("up", stderr)
	cfgPath := fs.String("config", "", "config file (default: embedded defaults under --data)")
	dataDir := fs.String("data", "./data", "data directory for the embedded broker, catalog and warehouse")
	httpAddr := fs.String("http", "", "HTTP address (default: the config's http, 127.0.0.1:8080)")
	brokerAddr := fs.String("broker-listen", broker.DefaultListen, "embedded broker address, when no brokers are configured")
	withDemo := fs.Bool("demo", false, "play a demo game world into the first pipeline's first topic")
	demoRate := fs.Int("demo-rate", 2000, "demo events per second")
	if err := parse(fs, args); err != nil {
		return err
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
			log.Info("demo producer started", "topic", topic, "rate", *demoRate)
			_, err := demo.Produce(ctx, demo.ProduceOptions{Brokers: brokers, Topic: topic, Rate: *demoRate, Live: true, Logger: log})
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return runStaging(ctx, cfg, brokers, pipes, stagingOptions{httpAddr: addr, extra: extra}, log)
}
