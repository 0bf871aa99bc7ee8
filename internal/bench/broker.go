package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/bigfather/bigfather/internal/broker"
)

// BrokerChildEnv, set in a `bigfather bench` process's environment to a partition count, makes that process
// the benchmark's broker instead (ServeBroker): the embedded broker runs beside the staging process, not in it,
// so that the staging process's peak memory is its own.
const BrokerChildEnv = "BIGFATHER_BENCH_BROKER_CHILD"

// ServeBroker runs an in-memory embedded broker on a free loopback port with partitions partitions per
// auto-created topic, writes its address and a newline to stdout, and serves until stdin ends (the parent
// closed it, or died) or ctx ends.
func ServeBroker(ctx context.Context, partitions string, stdin io.Reader, stdout io.Writer) error {
	n, err := strconv.Atoi(partitions)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s=%q: expected a positive partition count", BrokerChildEnv, partitions)
	}
	b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: n})
	if err != nil {
		return err
	}
	defer b.Close()
	if _, err := fmt.Fprintln(stdout, b.Addr()); err != nil {
		return err
	}
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	return b.Close()
}

// childBroker is an embedded broker in a child process (ServeBroker).
type childBroker struct {
	cmd   *exec.Cmd
	stdin io.Closer
	addr  string
}

// startChildBroker runs argv (the bigfather binary and the bench subcommand) with BrokerChildEnv set and waits
// for the broker's address. The child's stderr is passed through to stderr.
func startChildBroker(argv []string, partitions int, stderr io.Writer) (*childBroker, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), BrokerChildEnv+"="+strconv.Itoa(partitions))
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the broker process: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the broker process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the broker process %s: %w", argv[0], err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stdin.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("broker process %s exited before telling its address: %w", argv[0], err)
	}
	return &childBroker{cmd: cmd, stdin: stdin, addr: strings.TrimSpace(line)}, nil
}

// stop closes the child's stdin, which ends it, and waits for it.
func (c *childBroker) stop() error {
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		return fmt.Errorf("broker process: %w", err)
	}
	return nil
}
