package broker

import (
	"os"
	"os/exec"
	"testing"
)

// TestCrashRecovery kills a broker without Close (a child process that exits
// after producing) and checks a new broker on the same directory still has
// the acknowledged records and the group's committed offsets.
func TestCrashRecovery(t *testing.T) {
	const n = 1000
	if dir := os.Getenv("BROKER_CRASH_CHILD_DIR"); dir != "" {
		b, err := Start(Options{Listen: "127.0.0.1:0", DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		produceN(t, b, testTopic, n)
		consumeAndCommit(t, b, "crash.group", testTopic, n)
		os.Exit(0) // no Close: nothing is flushed or snapshotted
	}

	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$")
	cmd.Env = append(os.Environ(), "BROKER_CRASH_CHILD_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	b := startTest(t, dir)
	if got := partitionCount(t, b, testTopic); got != DefaultPartitions {
		t.Fatalf("after crash: %d partitions, want %d", got, DefaultPartitions)
	}
	consumeAll(t, b, testTopic, n)
	checkCommitted(t, b, "crash.group", testTopic, n)
}
