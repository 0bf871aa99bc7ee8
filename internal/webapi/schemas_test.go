package webapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/webapi"
)

// usageConfig has pipelines of every registry format (one with its subject defaulted, one with a route), and
// a plain JSON pipeline, which uses no subject.
const usageConfig = `kafka:
  brokers: ["127.0.0.1:9"]
warehouse: /tmp/warehouse
catalog:
  uri: sqlite:///tmp/catalog.db
pipelines:
  - name: payments
    topics: [shop.payments]
    format: protobuf
    subject: shop.Payment
    table: {name: staging.payments}
  - name: orders
    topics: [shop.orders, shop.orders-eu]
    format: avro
    table: {name: staging.orders}
  - name: orders-audit
    topics: [shop.orders]
    format: avro
    table: {name: audit.orders}
  - name: refunds
    topics: [shop.refunds]
    format: jsonschema
    table: {name: staging.refunds}
  - name: events
    topics: [game.events]
    table:
      name: staging.events
      columns:
        - {name: event_id, type: string, required: true}
`

// TestSchemaUsage: GET /api/v1/schemas/usage lists, by subject, pipeline and table, every table a pipeline of a
// registry format fills, with the subject defaulted to TOPIC-value; ?subject= keeps one subject; a viewer may
// read it, nobody without a token.
func TestSchemaUsage(t *testing.T) {
	cfg, err := config.Parse("bigfather.yaml", []byte(usageConfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(config.ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	const token = "usage-test-viewer-token-0123456789abcdef"
	authn, err := auth.New(config.Auth{Tokens: []config.AuthToken{{Name: "usage-viewer", Token: token, Role: "viewer"}}})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	a := api.New(authn, nil, log)
	a.Add((&webapi.Platform{Config: cfg, Auth: authn, Log: log}).Modules()...)
	srv := httptest.NewServer(a)
	defer srv.Close()

	for _, tc := range []struct {
		name, query, token string
		status             int
		body               string
	}{
		{"every subject", "", token, 200, `{"items":[` +
			`{"subject":"shop.Payment","pipeline":"payments","table":"staging.payments","format":"protobuf"},` +
			`{"subject":"shop.orders-value","pipeline":"orders","table":"staging.orders","format":"avro"},` +
			`{"subject":"shop.orders-value","pipeline":"orders-audit","table":"audit.orders","format":"avro"},` +
			`{"subject":"shop.refunds-value","pipeline":"refunds","table":"staging.refunds","format":"jsonschema"}]}` + "\n"},
		{"one subject", "?subject=shop.orders-value", token, 200, `{"items":[` +
			`{"subject":"shop.orders-value","pipeline":"orders","table":"staging.orders","format":"avro"},` +
			`{"subject":"shop.orders-value","pipeline":"orders-audit","table":"audit.orders","format":"avro"}]}` + "\n"},
		{"a subject no pipeline uses", "?subject=game.events-value", token, 200, `{"items":[]}` + "\n"},
		{"no token", "", "", 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+api.Prefix+"/schemas/usage"+tc.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || tc.body != "" && string(body) != tc.body {
				t.Errorf("GET /api/v1/schemas/usage%s: %d %s\nwant %d %s", tc.query, resp.StatusCode, body, tc.status, tc.body)
			}
		})
	}
}
