package webapi

import (
	"context"
	"net/http"
	"time"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/stage"
)

// overview is the Overview page's API family: the flow topics → pipelines → tables.
type overview struct{ p *Platform }

func (m overview) Routes() []api.Route {
	return []api.Route{{Method: http.MethodGet, Path: "/overview", Role: auth.Viewer,
		Summary: "The flow of data: topics, pipelines and tables (main, routes, rejected) with status, rate, lag and freshness", Handler: m.get}}
}

// flowNode is a topic, pipeline or table of the flow.
type flowNode struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"` // topic, pipeline, table
	Name          string    `json:"name"`
	Status        string    `json:"status"`
	RecordsPerSec *float64  `json:"records_per_sec,omitempty"`
	Lag           *int64    `json:"lag,omitempty"`
	LastCommit    time.Time `json:"last_commit,omitzero"`
	// Rows a table holds.
	Rows *int64 `json:"rows,omitempty"`
	// Role of a table: main, route or rejected.
	Role string `json:"role,omitempty"`
}

type flowEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Kind string `json:"kind"` // main, route, rejected, input
}

func (m overview) get(r *api.Request) (any, error) {
	nodes, edges := []flowNode{}, []flowEdge{}
	seen := map[string]bool{}
	add := func(n flowNode) {
		if !seen[n.ID] {
			seen[n.ID] = true
			nodes = append(nodes, n)
		}
	}
	for _, pl := range m.p.Pipelines {
		s := pipelines(m).summary(pl)
		pid := "pipeline:" + pl.Name
		rate, lag := s.RecordsPerSec, s.Lag
		add(flowNode{ID: pid, Kind: "pipeline", Name: pl.Name, Status: s.State, RecordsPerSec: &rate, Lag: &lag, LastCommit: s.LastCommit})
		for _, t := range pl.Topics {
			add(flowNode{ID: "topic:" + t, Kind: "topic", Name: t, Status: "ok"})
			edges = append(edges, flowEdge{From: "topic:" + t, To: pid, Kind: "input"})
		}
		status := "ok"
		if s.State == "failing" {
			status = "failing"
		}
		add(flowNode{ID: "table:" + pl.Table.Name, Kind: "table", Name: pl.Table.Name, Status: status, Role: "main", LastCommit: s.LastCommit})
		edges = append(edges, flowEdge{From: pid, To: "table:" + pl.Table.Name, Kind: "main"})
		for _, r := range pl.Routes {
			add(flowNode{ID: "table:" + r.Table, Kind: "table", Name: r.Table, Status: status, Role: "route"})
			edges = append(edges, flowEdge{From: pid, To: "table:" + r.Table, Kind: "route"})
		}
		rej := pl.Table.Name + stage.RejectedSuffix
		add(flowNode{ID: "table:" + rej, Kind: "table", Name: rej, Status: status, Role: "rejected"})
		edges = append(edges, flowEdge{From: pid, To: "table:" + rej, Kind: "rejected"})
	}
	m.measure(r.Context(), nodes)
	return map[string]any{"nodes": nodes, "edges": edges}, nil
}

// measure fills in what Kafka says of the topic nodes (records/s, consumer lag) and what the catalog says of
// the table nodes (rows, last commit), each within a short deadline: the picture must come back fast even when
// a store is slow, and a node it could not measure keeps its status only.
func (m overview) measure(ctx context.Context, nodes []flowNode) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	for i := range nodes {
		n := &nodes[i]
		switch n.Kind {
		case "topic":
			if m.p.kafkaView == nil {
				continue
			}
			d, err := m.p.kafkaView.Topic(ctx, n.Name)
			if err != nil {
				n.Status = "error"
				continue
			}
			rate, lag := d.RecordsPerSec, d.Lag
			n.RecordsPerSec, n.Lag = &rate, &lag
		case "table":
			t, err := m.p.Lake.LoadTable(ctx, n.Name)
			if err != nil {
				continue // not created yet: no commit so far
			}
			s := summarize(t, n.Name)
			rows := s.Rows
			n.Rows, n.LastCommit = &rows, s.LastCommit
		}
	}
}
