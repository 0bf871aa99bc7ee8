// Package broker runs an embedded Kafka-protocol broker (franz-go's kfake) for development and tests.
//
// A Broker is one kfake node listening on one loopback host:port. Topics are
// created on first use (a producer's or consumer's metadata request) with
// Options.Partitions partitions. Consumer groups and committed offsets work as
// in Kafka. With a DataDir, topics, records, committed offsets and producer IDs
// survive Close and a later Start on the same directory.
//
// It is a development broker: one node, no replication and no fsync per batch
// (files are synced on segment roll and on Close, like Kafka's defaults). A
// killed process loses nothing it acknowledged (TestCrashRecovery); an OS
// crash or power loss can lose the latest batches. Do not point production
// data at it.
//
// # Non-obvious
//
//   - kfake always binds 127.0.0.1:<port> itself; we pass kfake.ListenFn so the
//     host in Options.Listen is honoured. kfake advertises the listener's
//     address in metadata, which is why unspecified hosts (0.0.0.0, ::) are
//     rejected: clients would be told to dial 0.0.0.0.
//   - Port 0 needs no free-port probing: the listener picks a port and Addr
//     reports it.
//   - kfake's default is three nodes and ten partitions per auto-created
//     topic; we ask for one node and Options.Partitions.
//   - Auto creation happens only when the client also asks for it: kgo clients
//     need kgo.AllowAutoTopicCreation (a producer without it gets
//     UNKNOWN_TOPIC_OR_PARTITION until the topic exists).
//   - kfake's own auto creation (kfake.AllowAutoTopicCreation) does not
//     persist the new topic until Close, so after a crash the topic and its
//     records were gone although the segment files were on disk. We leave it
//     off and create topics through a metadata control function calling
//     Cluster.CreateTopic, which persists at once (see autoCreate).
//   - kfake appends records to segment files and commits to groups.log before
//     it answers, so a killed process keeps acknowledged records and committed
//     offsets. Close also writes a state snapshot that makes the next start
//     quicker. kfake's
//     Close cannot fail, so we capture the errors it logs while shutting down
//     and return them from Close.
//   - kfake does not lock its data directory. Two clusters on one directory
//     would corrupt it, so Start takes an exclusive lock on DataDir/.lock
//     (flock, where the platform has it) and Close releases it.
//   - A persisted directory remembers the cluster ID and every topic with its
//     partition count; Options.Partitions applies only to topics created
//     after the start.
package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DefaultListen is the address Start listens on when Options.Listen is empty.
const DefaultListen = "127.0.0.1:9092"

// DefaultPartitions is the partition count of auto-created topics when
// Options.Partitions is not positive.
const DefaultPartitions = 8

// Options configures Start; the zero value is a usable in-memory broker on
// DefaultListen.
type Options struct {
	// Listen is the host:port to listen on, default DefaultListen. Port 0
	// picks a free port; Addr reports it. The host must be a specific
	// address (normally loopback), because it is advertised to clients.
	Listen string
	// DataDir, if not empty, persists the broker's state under this
	// directory (created if needed) and reloads it on Start. Empty keeps
	// everything in memory.
	DataDir string
	// Partitions is the partition count of auto-created topics, default
	// DefaultPartitions.
	Partitions int
	// Logger receives kfake's logs (errors and warnings at their level,
	// informational messages at debug). Nil discards them.
	Logger *slog.Logger
}

// Broker is a running embedded broker. Its methods are safe for concurrent use.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
	log     *logAdapter
	lock    *os.File
	parts   int
	closing atomic.Bool // stops auto creation racing kfake's shutdown

	closeOnce sync.Once
	closeErr  error
}

// Start starts a broker as configured by opts and returns once it accepts
// connections.
func Start(opts Options) (*Broker, error) {
	listen := opts.Listen
	if listen == "" {
		listen = DefaultListen
	}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("broker: parsing listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return nil, fmt.Errorf("broker: listen address %q: host must be a specific address such as 127.0.0.1, because it is advertised to clients", listen)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("broker: listen address %q: invalid port: %w", listen, err)
	}
	parts := opts.Partitions
	if parts <= 0 {
		parts = DefaultPartitions
	}

	b := &Broker{log: &logAdapter{l: opts.Logger}, parts: parts}

	kopts := []kfake.Opt{
		kfake.Ports(int(port)), // one node
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			// kfake asks for 127.0.0.1:<port>; listen where we were told.
			ln, err := net.Listen(network, net.JoinHostPort(host, portStr))
			if err == nil {
				b.addr = ln.Addr().String()
			}
			return ln, err
		}),
		kfake.DefaultNumPartitions(parts),
		kfake.WithLogger(b.log),
	}
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("broker: creating data dir: %w", err)
		}
		if b.lock, err = lockDir(opts.DataDir); err != nil {
			return nil, fmt.Errorf("broker: data dir %s: %w", opts.DataDir, err)
		}
		kopts = append(kopts, kfake.DataDir(opts.DataDir))
	}

	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		if b.lock != nil {
			unlockDir(b.lock)
		}
		return nil, fmt.Errorf("broker: starting kfake on %s: %w", listen, err)
	}
	b.cluster = c
	c.ControlKey(int16(kmsg.Metadata), b.autoCreate)
	if opts.Logger != nil {
		opts.Logger.Info("broker started", "addr", b.addr, "data_dir", opts.DataDir, "partitions", parts)
	}
	return b, nil
}

// autoCreate is a kfake control function that sees every metadata request and
// creates the unknown topics it names, when the client allows auto creation,
// before kfake answers it. kfake's own auto creation (kfake.AllowAutoTopicCreation)
// does not write the topic list to disk, so a crash before Close lost every
// auto-created topic with its records; CreateTopic persists it at once.
func (b *Broker) autoCreate(kreq kmsg.Request) (kmsg.Response, error, bool) {
	req, ok := kreq.(*kmsg.MetadataRequest)
	if !ok || !req.AllowAutoTopicCreation || b.closing.Load() {
		return nil, nil, false
	}
	for _, t := range req.Topics {
		if t.Topic == nil || *t.Topic == "" || b.cluster.TopicInfo(*t.Topic) != nil {
			continue
		}
		err := b.cluster.CreateTopic(*t.Topic, int32(b.parts), nil)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			b.log.Logf(kfake.LogLevelWarn, "auto-creating topic %q: %v", *t.Topic, err)
		}
	}
	return nil, nil, false // let kfake answer, now that the topics exist
}

// Addr returns the host:port the broker listens on, with the actual port when
// Options.Listen asked for port 0.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker and, with a DataDir, writes its state to disk and
// releases the directory. It is idempotent: later calls return the first
// call's result.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.closing.Store(true)
		b.log.startCapture()
		b.cluster.Close()
		errs := b.log.stopCapture()
		if b.lock != nil {
			errs = append(errs, unlockDir(b.lock))
		}
		if err := errors.Join(errs...); err != nil {
			b.closeErr = fmt.Errorf("broker: closing: %w", err)
		}
	})
	return b.closeErr
}
