package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// alertsConfig configures custom rules and receivers whose secrets come from the environment.
const alertsConfig = `http: 127.0.0.1:8181
monitor: {interval: 5s, window: 6, freshness_slo: 2m, groups: false}
alerts:
  console_url: https://bf.example.com
  rules:
    - {name: GameLag, metric: bigfather_consumer_lag_seconds, match: {pipeline: game-events}, by: [pipeline], op: ">", value: 10m, for: 2m, severity: critical, labels: {team: games}, receivers: [ops]}
    - {name: GameStuck, status: [STALL, ERR], for: 1m, runbook: stall}
  receivers:
    - {name: ops, type: opsgenie, api_key: "${BF_TEST_GENIE_KEY}"}
    - {name: chat, type: slack, url: "${BF_TEST_SLACK_URL}"}
pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
      columns: [{name: event_id, type: string}]
`

// promtoolPath returns promtool's path, or skips when it is missing and BIGFATHER_SKIP_PROMTOOL=1.
func promtoolPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("BIGFATHER_SKIP_PROMTOOL") == "1" {
			t.Skip("promtool is not installed and BIGFATHER_SKIP_PROMTOOL=1")
		}
		t.Fatal("promtool is not on PATH: install it (apt-get install -y prometheus) or set BIGFATHER_SKIP_PROMTOOL=1 to skip this test")
	}
	return path
}

// runBigfather runs the binary in dir and returns its output and exit code.
func runBigfather(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	var exit *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// TestAlertsCommand: `bigfather alerts rules` prints a rules file that passes `promtool check rules`, with and
// without a config; `alerts list` prints one line per rule; bad usage and bad configs exit 2.
func TestAlertsCommand(t *testing.T) {
	promtool := promtoolPath(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bigfather.yaml")
	if err := os.WriteFile(cfg, []byte(alertsConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"BF_TEST_GENIE_KEY=genie-0123456789abcdef", "BF_TEST_SLACK_URL=https://hooks.slack.com/services/T/B/slackSECRET"}
	for _, tc := range []struct {
		name  string
		args  []string
		rules int
		has   []string
	}{
		// 12 built-in rules (no consumer-group rule with monitor.groups false) and 2 configured ones.
		{"config", []string{"alerts", "rules", "--config", cfg}, 14, []string{
			`expr: max by (pipeline) (bigfather_consumer_lag_seconds{pipeline="game-events"}) > 600`,
			`expr: max without (status) (bigfather_pipeline_status{status=~"STALL|ERR"}) == 1`,
			"runbook_url: https://bf.example.com/ui/runbooks/stall",
			"for: 30s", // STALL and WARN hold for the window: 5s × 6
			"freshness objective of 2m",
		}},
		{"defaults", []string{"alerts", "rules"}, 13, []string{"alert: BigFatherConsumerGroupStopped", "runbook_url: http://127.0.0.1:8080/ui/runbooks/err"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runBigfather(t, dir, env, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, s := range tc.has {
				if !strings.Contains(out, s) {
					t.Errorf("rules file lacks %q:\n%s", s, out)
				}
			}
			if strings.Contains(out, "slackSECRET") || strings.Contains(out, "genie-0123") {
				t.Errorf("the rules file shows a receiver secret:\n%s", out)
			}
			path := filepath.Join(t.TempDir(), "rules.yml")
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			check, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool check rules: %v\n%s\n%s", err, check, out)
			}
			if want := "SUCCESS: " + strconv.Itoa(tc.rules) + " rules found"; !strings.Contains(string(check), want) {
				t.Errorf("promtool: %s, want %q", check, want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("alerts without --config wrote ./data (%v)", err)
	}

	out, errOut, code := runBigfather(t, dir, env, "alerts", "list", "--config", cfg)
	if code != 0 {
		t.Fatalf("alerts list: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 15 || !strings.HasPrefix(lines[0], "RULE ") || !strings.Contains(lines[0], "SEVERITY") || !strings.Contains(lines[0], "RUNBOOK") {
		t.Fatalf("alerts list: %d lines:\n%s", len(lines), out)
	}
	if got := strings.Fields(lines[13]); strings.Join(got, " ") != `GameLag critical 2m0s max by (pipeline) (bigfather_consumer_lag_seconds{pipeline="game-events"}) > 600 ops -` {
		t.Errorf("GameLag line = %q", lines[13])
	}
	if got := strings.Fields(lines[14]); strings.Join(got, " ") != `GameStuck warning 1m0s max without (status) (bigfather_pipeline_status{status=~"STALL|ERR"}) == 1 all https://bf.example.com/ui/runbooks/stall` {
		t.Errorf("GameStuck line = %q", lines[14])
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(alertsConfig, "receivers: [ops]", "receivers: [pager]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"alerts"}, "bigfather: usage: bigfather alerts rules|list [--config FILE]"},
		{[]string{"alerts", "show"}, `bigfather: alerts: unknown subcommand "show" (usage: bigfather alerts rules|list [--config FILE])`},
		{[]string{"alerts", "rules", "extra"}, `bigfather: alerts rules: unexpected argument "extra" (usage: bigfather alerts rules|list [--config FILE])`},
		{[]string{"alerts", "rules", "--config", bad}, "bigfather: " + bad + `:6: alerts.rules[0].receivers[0]: unknown receiver "pager" (configured: ops, chat)`},
	} {
		_, errOut, code := runBigfather(t, dir, env, tc.args...)
		if code != 2 || strings.TrimSpace(errOut) != tc.want {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
