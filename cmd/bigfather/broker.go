package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/bigfather/bigfather/internal/broker"
)

func cmdBroker(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger) error {
	fs := newFlags("broker", stderr)
	listen := fs.String("listen", broker.DefaultListen, "address to listen on (loopback)")
	dataDir := fs.String("data", "./data", "data directory; the broker persists under DIR/broker")
	partitions := fs.Int("partitions", broker.DefaultPartitions, "partitions of auto-created topics")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *partitions <= 0 {
		return usagef("--partitions must be positive, got %d", *partitions)
	}
	b, err := broker.Start(broker.Options{Listen: *listen, DataDir: filepath.Join(*dataDir, "broker"), Partitions: *partitions, Logger: log})
	if err != nil {
		return err
	}
	log.Info("embedded DEVELOPMENT broker listening (not for production)", "addr", b.Addr(), "data", *dataDir)
	<-ctx.Done()
	return b.Close()
}
