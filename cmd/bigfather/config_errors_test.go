package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// runBin runs the bigfather binary with args in the package directory and returns its exit code, stdout and
// stderr. Bad usage and bad configs exit before connecting anywhere, so a run that takes long has hung.
func runBin(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
	default:
		t.Fatalf("bigfather %s: %v (stderr: %s)", strings.Join(args, " "), err, errOut.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// badConfigs maps each file in testdata/badconfig to the one line `bigfather stage` prints for it: the file,
// the line and the key of the first problem in the file.
var badConfigs = []struct {
	file string
	want string
}{
	{"unknown_key.yaml", `unknown_key.yaml:4: warehous: unknown key (expected one of: kafka, warehouse, s3, catalog, http, auth, maintenance, memory_limit, monitor, alerts, pipelines, metrics, metric_files, derived)`},
	// The file also has a bad max_rows further down: the first problem in document order wins.
	{"wrong_type.yaml", `wrong_type.yaml:9: pipelines[0].topics: expected a list, got a string`},
	{"missing_required.yaml", `missing_required.yaml:11: pipelines[0].table.name: missing required key`},
	{"unknown_column_type.yaml", `unknown_column_type.yaml:13: pipelines[0].table.columns[0].type: unknown column type "uuid" (expected one of: string, long, int, double, float, boolean, timestamp, date)`},
	{"bad_partition_transform.yaml", `bad_partition_transform.yaml:12: pipelines[0].table.partition_by[0]: unknown partition transform "week(event_time)" (expected identity, year, month, day, hour, bucket[N], truncate[W])`},
	{"partition_undeclared_column.yaml", `partition_undeclared_column.yaml:12: pipelines[0].table.partition_by[0]: column "created_at" is not declared in columns`},
	{"bad_partition_type.yaml", `bad_partition_type.yaml:12: pipelines[0].table.partition_by[0]: hour needs a timestamp column; "event_id" is string`},
	{"bad_duration.yaml", `bad_duration.yaml:15: pipelines[0].commit.interval: expected a duration like 10s, got "ten seconds"`},
	{"bad_required.yaml", `bad_required.yaml:13: pipelines[0].table.columns[0].required: expected true or false, got "yes please"`},
	{"duplicate_column.yaml", `duplicate_column.yaml:15: pipelines[0].table.columns[2].name: duplicate column name "Event_ID" (also columns[0])`},
	{"duplicate_key.yaml", `duplicate_key.yaml:14: pipelines[0].table.name: duplicate key (first on line 11)`},
	{"invalid_yaml.yaml", `invalid_yaml.yaml:3: invalid YAML: did not find expected ',' or ']'`},
	{"empty.yaml", `empty.yaml:1: config is empty`},
	{"two_documents.yaml", `two_documents.yaml:14: found a second YAML document (expected one)`},
	{"reserved_column.yaml", `reserved_column.yaml:14: pipelines[0].table.columns[1].name: column name "_offset" is reserved (the pipeline adds _topic, _partition, _offset, _kafka_timestamp, _ingested_at itself)`},
	{"registry_format_columns.yaml", `registry_format_columns.yaml:14: pipelines[0].table.columns: format avro takes its columns from the registry subject "game.events-value"; remove table.columns`},
	{"unknown_format.yaml", `unknown_format.yaml:10: pipelines[0].format: unknown format "xml" (expected one of: json, avro, protobuf, jsonschema)`},
	// Load accepts a config without brokers (`up` runs its own); stage validates again and needs them.
	{"no_brokers.yaml", "no_brokers.yaml:2: kafka.brokers: no brokers configured (only `bigfather up` can run without them, using its embedded broker)"},
}

// TestBadConfigs runs `bigfather stage` on each malformed config: exit code 2 and exactly one line naming the
// file, line and key, nothing on stdout.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "badconfig", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var covered []string
	for _, tc := range badConfigs {
		covered = append(covered, filepath.Join("testdata", "badconfig", tc.file))
	}
	slices.Sort(covered)
	if !slices.Equal(files, covered) {
		t.Errorf("testdata/badconfig holds %v, but the table covers %v", files, covered)
	}

	for _, tc := range badConfigs {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", "badconfig", tc.file)
			code, stdout, stderr := runBin(t, "stage", "--config", path)
			if want := "bigfather: testdata/badconfig/" + tc.want + "\n"; stderr != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
			}
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

// TestUsageErrors checks bad command lines: exit code 2 and the exact message.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{
			name:       "stage without config",
			args:       []string{"stage"},
			wantStderr: "bigfather: stage: --config is required\n",
		},
		{
			name:       "no subcommand",
			args:       nil,
			wantStderr: usage + "bigfather: missing subcommand\n",
		},
		{
			name:       "unknown subcommand",
			args:       []string{"frobnicate"},
			wantStderr: usage + "bigfather: unknown subcommand \"frobnicate\"\n",
		},
		{
			name:       "sql output format",
			args:       []string{"sql", "--format", "xml", "select 1"},
			wantStderr: "bigfather: unknown output format \"xml\" (expected table, csv or json)\n",
		},
		{
			name:       "sql without a query",
			args:       []string{"sql"},
			wantStderr: "bigfather: usage: bigfather sql [--config FILE | --data DIR] [--format table|csv|json] \"SQL\"\n",
		},
		{
			name:       "demo without produce",
			args:       []string{"demo"},
			wantStderr: "bigfather: usage: bigfather demo produce [--brokers ADDR] [--topic T] [--rate N] [--count N]\n",
		},
		{
			name:       "unknown pipeline",
			args:       []string{"stage", "--config", filepath.Join("..", "..", "internal", "config", "testdata", "valid.yaml"), "--pipeline", "nope"},
			wantStderr: "bigfather: no pipeline named \"nope\" (have: game-events, sessions)\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runBin(t, tc.args...)
			if stderr != tc.wantStderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, tc.wantStderr)
			}
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}

	t.Run("unknown flag", func(t *testing.T) {
		t.Parallel()
		code, _, stderr := runBin(t, "stage", "--bogus")
		// The flag package prints the flag list first; the last line is ours.
		const want = "bigfather: stage: flag provided but not defined: -bogus\n"
		if !strings.HasPrefix(stderr, "flag provided but not defined: -bogus\nUsage of bigfather stage:\n") || !strings.HasSuffix(stderr, "\n"+want) {
			t.Errorf("stderr:\n%s\nwant the flag list, then %q", stderr, want)
		}
		if code != 2 {
			t.Errorf("exit code %d, want 2", code)
		}
	})

	t.Run("missing config file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join("testdata", "badconfig", "missing.yaml")
		code, stdout, stderr := runBin(t, "stage", "--config", path)
		const prefix = "bigfather: reading config: open testdata/badconfig/missing.yaml: "
		if !strings.HasPrefix(stderr, prefix) || !strings.Contains(stderr, "no such file or directory") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("stderr = %q, want one line starting %q and saying no such file or directory", stderr, prefix)
		}
		if code != 2 {
			t.Errorf("exit code %d, want 2", code)
		}
		if stdout != "" {
			t.Errorf("stdout = %q, want nothing", stdout)
		}
	})
}

// TestVersion prints the version and exits 0.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		t.Run(arg, func(t *testing.T) {
			code, stdout, stderr := runBin(t, arg)
			if code != 0 || stdout != "bigfather "+version+"\n" || stderr != "" {
				t.Errorf("bigfather %s: exit %d, stdout %q, stderr %q; want exit 0, stdout %q, no stderr",
					arg, code, stdout, stderr, "bigfather "+version+"\n")
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		code, stdout, stderr := runBin(t, "help")
		if code != 0 || stdout != usage || stderr != "" {
			t.Errorf("bigfather help: exit %d, stdout %q, stderr %q; want exit 0, the usage, no stderr", code, stdout, stderr)
		}
	})
}

// TestCompileErrors: log definitions and CEL expressions are compiled before anything starts; a broken one is a
// configuration error (exit 2) naming the pipeline, the rule and the problem.
func TestCompileErrors(t *testing.T) {
	cases := []struct{ file, want string }{
		{"bad_cel.yaml", "bigfather: pipeline test: enrich.derive[0] \"big\": compiling \"amout > 10.0\": ERROR: <input>:1:1: undeclared reference to 'amout' (did you mean 'amount'?)\n | amout > 10.0\n | ^\n"},
		{"bad_def.yaml", "bigfather: pipeline test: definition \"def.json\": unsupported keywords: /properties/a/uniqueItems (supported: "},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			cmd := exec.Command(binPath, "stage", "--config", filepath.Join("testdata", "compile", tc.file), "--http", "off")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit: %v, want code 2; stderr:\n%s", err, stderr.String())
			}
			if !strings.HasPrefix(stderr.String(), tc.want) {
				t.Errorf("stderr:\n%s\nwant prefix:\n%s", stderr.String(), tc.want)
			}
		})
	}
}
