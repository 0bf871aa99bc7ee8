package config

import (
	"strings"
	"testing"
)

// TestExpandVariables: ${VAR} in any value is the environment variable; $${ is a literal ${.
func TestExpandVariables(t *testing.T) {
	t.Setenv("BF_TOPIC", "game.events")
	t.Setenv("BF_PARTS", "day(event_time)")
	t.Setenv("BF_PASS", "s3cr3t-pa55")
	cfg, err := Parse("env.yaml", []byte(`catalog:
  uri: postgres://bigfather:${BF_PASS}@127.0.0.1:5432/lake
pipelines:
  - name: game-events
    topics: ["${BF_TOPIC}"]
    table:
      name: staging.game_events
      partition_by: ["${BF_PARTS}"]
      columns:
        - {name: event_time, type: timestamp}
    enrich:
      derive:
        - {name: note, type: string, expr: '"price in $${currency}"'}
`))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pipelines[0]
	if got := strings.Join(p.Topics, ","); got != "game.events" {
		t.Errorf("topics: %s", got)
	}
	if got := p.Enrich.Derive[0].Expr; got != `"price in ${currency}"` {
		t.Errorf("$${ must be a literal ${: %s", got)
	}
	if got := cfg.Catalog.URI; got != "postgres://bigfather:s3cr3t-pa55@127.0.0.1:5432/lake" {
		t.Errorf("catalog uri: %s", got)
	}
	if len(p.Table.Partitions) != 1 || p.Table.Partitions[0].Column != "event_time" {
		t.Errorf("partition_by: %+v", p.Table.Partitions)
	}
}

// TestExpandErrors: an unset variable names the file, line, key and variable; a value that came from the
// environment never appears in an error, whichever check refuses it.
func TestExpandErrors(t *testing.T) {
	t.Setenv("BF_SECRET_INTERVAL", "hunter2-not-a-duration")
	cases := []struct{ name, yaml, want string }{
		{"unset", `pipelines:
  - name: game-events
    topics: ["${BF_UNSET_TOPIC}"]
    table: {name: staging.t, columns: [{name: a, type: string}]}
`, `env.yaml:3: pipelines[0].topics[0]: environment variable BF_UNSET_TOPIC is not set (referenced as ${BF_UNSET_TOPIC})`},
		{"malformed", `pipelines:
  - name: game-events
    topics: ["${1bad}"]
    table: {name: staging.t, columns: [{name: a, type: string}]}
`, `env.yaml:3: pipelines[0].topics[0]: malformed environment variable reference "${1bad}" (expected ${NAME}, NAME of letters, digits and _)`},
		{"secret in a bad value", `pipelines:
  - name: game-events
    topics: [t]
    table: {name: staging.t, columns: [{name: a, type: string}]}
    commit: {interval: "${BF_SECRET_INTERVAL}"}
`, `env.yaml:5: pipelines[0].commit.interval: expected a duration like 10s, got "${BF_SECRET_INTERVAL}"`},
	}
	for _, tc := range cases {
		_, err := Parse("env.yaml", []byte(tc.yaml))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the variable's value: %v", tc.name, err)
		}
	}
}
