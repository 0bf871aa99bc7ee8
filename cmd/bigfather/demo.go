package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/bigfather/bigfather/internal/demo"
	"github.com/bigfather/bigfather/internal/registry/wire"
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
	format := fs.String("format", "json", "record format: json, or avro (registry-framed; the schema is registered first)")
	registryURL := fs.String("registry", "http://127.0.0.1:8080", "schema registry URL for --format avro (a bigfather process's HTTP address)")
	subject := fs.String("subject", "", "registry subject for --format avro (default TOPIC-value)")
	token := fs.String("token", os.Getenv("BIGFATHER_TOKEN"), "API token for the registry when auth is on (default $BIGFATHER_TOKEN)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "json" && *format != "avro" {
		return usagef("--format %q: expected json or avro", *format)
	}
	if *format == "avro" && *allEvents != "" {
		return usagef("--all-events writes JSON lines of the produced values; it cannot be combined with --format avro")
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
	if *format == "avro" {
		if *subject == "" {
			*subject = *topic + "-value"
		}
		id, err := registerDemoSchema(ctx, *registryURL, *subject, *token)
		if err != nil {
			return err
		}
		log.Info("demo schema registered", "subject", *subject, "id", id, "registry", *registryURL)
		opts.Encode = func(dst []byte, e demo.Event) []byte {
			return demo.AppendAvro(append(dst, wire.Frame(id, nil, nil)...), e)
		}
	}
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

// registerDemoSchema registers the demo event's Avro schema under subject (or finds it registered) and
// returns its id.
func registerDemoSchema(ctx context.Context, url, subject, token string) (int, error) {
	opts := []sr.ClientOpt{sr.URLs(url)}
	if token != "" {
		opts = append(opts, sr.BearerToken(token))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return 0, fmt.Errorf("schema registry %s: %w", url, err)
	}
	ss, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: demo.AvroSchema, Type: sr.TypeAvro})
	if err != nil {
		return 0, fmt.Errorf("registering the demo schema under %s at %s: %w", subject, url, err)
	}
	return ss.ID, nil
}
