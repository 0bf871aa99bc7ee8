// Command bigfather is Big Father's single binary: it stages Kafka topics into Iceberg tables exactly once and
// serves them. Run `bigfather help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/demo"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// usageError is a bad command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

const usage = `bigfather stages Kafka topics into Apache Iceberg tables exactly once.

Usage:
  bigfather up [--config FILE] [--data DIR] [--http ADDR] [--demo]   everything in one process (embedded broker when no brokers are configured)
  bigfather broker [--listen 127.0.0.1:9092] [--data DIR] [--partitions N]   embedded DEVELOPMENT broker only
  bigfather stage --config FILE [--pipeline NAME] [--http ADDR]      staging workers; run several to share the work
  bigfather sql [--config FILE | --data DIR] [--format table|csv|json] "SQL"
  bigfather backfill [--config FILE] [--pipeline P] (--from FILES | --from-offsets TOPIC:PART:FROM-TO | --from-time TOPIC:SINCE..UNTIL)
  bigfather completeness [--config FILE | --data DIR] [--pipeline P] [--format table|json]
  bigfather rejected [--config FILE | --data DIR] [--pipeline P] [--format table|json]
  bigfather demo produce [--brokers ADDR] [--topic T] [--rate N] [--count N]
  bigfather maintain [--config FILE | --data DIR] [--table T]   compaction, snapshot expiry, orphan removal, once
  bigfather console --config FILE [--http ADDR] [--insecure]   the web console (/ui) and its API alone
  bigfather auth hash < FILE   the bcrypt hash of the password on FILE's first line, for auth.users[].password_hash
  bigfather status [--config FILE | --data DIR] [--http ADDR] [--token T] [--format table|json]   readiness, statuses, lag, freshness, alerts
  bigfather alerts rules|list [--config FILE]   the alert rules as a Prometheus rules file, or a table
  bigfather schemas list|show|diff|check|register ... [--config FILE | --url URL] [--format table|json]   the schema registry
  bigfather metrics list|describe|show|refresh [NAME] [--from DAY --to DAY] [--by DIM] [--format table|csv|json|svg|png]   game metrics
  bigfather bench [--count N] [--shape plain|quality|fanout|avro] [--format table|json] [--brokers ADDR]   stage demo events and measure
  bigfather version

Exit codes: 0 success, 1 runtime failure, 2 bad usage or config.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := dispatch(ctx, args, stdout, stderr, log)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue) || config.IsConfigError(err):
		fmt.Fprintln(stderr, "bigfather:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "bigfather:", err)
		return 1
	}
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("BIGFATHER_LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("missing subcommand")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "up":
		return cmdUp(ctx, rest, stderr, log)
	case "broker":
		return cmdBroker(ctx, rest, stderr, log)
	case "stage":
		return cmdStage(ctx, rest, stderr, log)
	case "sql":
		return cmdSQL(ctx, rest, stdout, stderr)
	case "backfill":
		return cmdBackfill(ctx, rest, stdout, stderr, log)
	case "completeness":
		return cmdCompleteness(ctx, rest, stdout, stderr)
	case "rejected":
		return cmdRejected(ctx, rest, stdout, stderr)
	case "maintain":
		return cmdMaintain(ctx, rest, stdout, stderr)
	case "console":
		return cmdConsole(ctx, rest, stderr, log)
	case "auth":
		return cmdAuth(rest, os.Stdin, stdout)
	case "status":
		return cmdStatus(ctx, rest, stdout, stderr, log)
	case "alerts":
		return cmdAlerts(ctx, rest, stdout, stderr, log)
	case "bench":
		return cmdBench(ctx, rest, stdout, stderr, log)
	case "schemas":
		return cmdSchemas(ctx, rest, stdout, stderr, log)
	case "metrics":
		return cmdMetrics(ctx, rest, stdout, stderr)
	case "demo":
		if len(rest) == 0 || rest[0] != "produce" {
			return usagef("usage: bigfather demo produce [--brokers ADDR] [--topic T] [--rate N] [--count N]")
		}
		return cmdDemoProduce(ctx, rest[1:], stdout, stderr, log)
	case "version", "--version":
		fmt.Fprintln(stdout, "bigfather", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown subcommand %q", cmd)
}

// newFlags makes a flag set whose parse errors are usage errors (exit 2).
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bigfather "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// durationFlag is a duration flag read like config durations and held to [min, max].
type durationFlag struct{ d, min, max time.Duration }

func (f *durationFlag) String() string { return f.d.String() }

func (f *durationFlag) Set(s string) error {
	d, err := config.ParseDuration(s)
	if err != nil {
		return err
	}
	if d < f.min || d > f.max {
		return fmt.Errorf("%s is outside the allowed range %s to %s", d, f.min, f.max)
	}
	f.d = d
	return nil
}

// boundedDuration defines a duration flag with a default and an allowed range.
func boundedDuration(fs *flag.FlagSet, name string, def, min, max time.Duration, usage string) *time.Duration {
	f := &durationFlag{d: def, min: min, max: max}
	fs.Var(f, name, fmt.Sprintf("%s (%s to %s)", usage, min, max))
	return &f.d
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", strings.TrimPrefix(fs.Name(), "bigfather "), err)
	}
	return nil
}

// loadConfig reads --config, or the embedded defaults under --data when no file is given.
func loadConfig(path, dataDir string, embedded bool) (*config.Config, error) {
	if path == "" {
		if _, err := demo.WriteDefinitions(filepath.Join(dataDir, "definitions")); err != nil {
			return nil, err
		}
		if err := demo.WriteRates(filepath.Join(dataDir, "rates.csv")); err != nil {
			return nil, err
		}
		return config.Default(dataDir), nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		if config.IsConfigError(err) {
			return nil, err
		}
		return nil, usagef("%v", err)
	}
	if err := cfg.Validate(config.ValidateOptions{EmbeddedBroker: embedded}); err != nil {
		return nil, err
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
