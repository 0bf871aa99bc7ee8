package config

import (
	"fmt"
	"strings"
	"testing"
)

const s3Pipelines = `pipelines:
  - name: game-events
    topics: [game.events]
    table:
      name: staging.game_events
      columns:
        - {name: event_id, type: string}
`

// TestS3Block: the s3 block decodes, path_style defaults to true with an endpoint, and ${VAR} fills secrets.
func TestS3Block(t *testing.T) {
	t.Setenv("BF_S3_SECRET", "very-secret-key-0123456789")
	cfg, err := Parse("s3.yaml", []byte(`warehouse: s3://lake/prod
s3:
  endpoint: http://127.0.0.1:7070
  region: eu-west-1
  access_key_id: AKIDEXAMPLE
  secret_access_key: ${BF_S3_SECRET}
`+s3Pipelines))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.S3
	if s.Endpoint != "http://127.0.0.1:7070" || s.Region != "eu-west-1" || !s.PathStyle || s.AccessKeyID != "AKIDEXAMPLE" ||
		s.SecretAccessKey != "very-secret-key-0123456789" {
		t.Errorf("s3 block: %+v", s)
	}
	for _, out := range []string{s.String(), fmt.Sprintf("%v %+v %#v", s, s, s)} {
		if strings.Contains(out, "very-secret") {
			t.Errorf("the secret is printed: %s", out)
		}
	}

	cfg, err = Parse("aws.yaml", []byte("warehouse: s3://lake\ns3: {region: us-east-2}\n"+s3Pipelines))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.S3.PathStyle {
		t.Error("path_style must default to false without an endpoint (AWS)")
	}
	cfg, err = Parse("vhost.yaml", []byte("warehouse: s3://lake\ns3: {endpoint: 'https://s3.example.com', path_style: false}\n"+s3Pipelines))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.S3.PathStyle {
		t.Error("an explicit path_style: false must stay false")
	}
}

// TestS3Errors: every s3 problem names file, line and key, and a secret never appears in a message.
func TestS3Errors(t *testing.T) {
	const secret = "literal-secret-0123456789"
	for _, tc := range []struct{ yaml, want string }{
		{"warehouse: s3://lake/prefix\n", "s3.yaml:1: warehouse: an s3:// warehouse needs s3.region (or s3.endpoint"},
		{"warehouse: s3://lake/prefix\ns3:\n  path_style: true\n", "s3.yaml:3: s3.region: an s3:// warehouse needs s3.region"},
		{"warehouse: s3://lake\ns3:\n  endpoint: 127.0.0.1:7070\n", `s3.yaml:3: s3.endpoint: expected http(s)://host[:port], got "127.0.0.1:7070"`},
		{"warehouse: s3://lake\ns3:\n  region: us-east-1\n  secret_access_key: " + secret + "\n", "s3.yaml:4: s3.secret_access_key: s3.access_key_id is missing"},
		{"warehouse: s3://lake\ns3:\n  region: us-east-1\n  access_key_id: AKID\n", "s3.yaml:4: s3.access_key_id: s3.secret_access_key is missing"},
		{"warehouse: s3://lake\ns3:\n  region: us-east-1\n  regoin: x\n", "s3.yaml:4: s3.regoin: unknown key"},
		{"warehouse: s3://lake\ns3:\n  region: us-east-1\n  path_style: maybe\n", "s3.yaml:4: s3.path_style:"},
		{"warehouse: s3:///prefix\ns3: {region: us-east-1}\n", "s3.yaml:1: warehouse: expected s3://bucket/prefix"},
		// A later problem's message quoting the secret shows it redacted.
		{"warehouse: s3://lake\ns3:\n  region: us-east-1\n  access_key_id: AKID\n  secret_access_key: " + secret + "\nhttp: " + secret + "\n", "http: expected host:port, got \"<redacted>\""},
	} {
		_, err := Parse("s3.yaml", []byte(tc.yaml+s3Pipelines))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %s", tc.yaml, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the secret appears in %v", err)
		}
	}
}
