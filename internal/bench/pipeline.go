package bench

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/bigfather/bigfather/internal/config"
	"github.com/bigfather/bigfather/internal/demo"
	"github.com/bigfather/bigfather/internal/stage"
)

// Shape is what a benchmark pipeline does to each record.
type Shape string

// The shapes Run stages with.
const (
	// Plain stages the demo game's declared columns only.
	Plain Shape = "plain"
	// Quality is `bigfather up`'s demo pipeline without routes and completeness: the strict JSON scan, the
	// log definitions, cleansing, two CEL enrichments (is_mobile, amount_krw) and dedup on event_id.
	Quality Shape = "quality"
	// Fanout is Plain plus one route per demo event type (CEL `event_type == "..."`), so every record is
	// written twice: to the main table and to its event type's table.
	Fanout Shape = "fanout"
	// Avro is Plain with the events produced as registry-framed Avro (format: avro): demo.AvroSchema is
	// registered under the topic's subject ("<topic>-value") in the catalog database, every record is the
	// magic byte, that schema's id and the event's Avro binary, and the table takes its columns from the
	// subject.
	Avro Shape = "avro"
)

// Shapes lists the shapes in the order usage messages show them.
var Shapes = []Shape{Plain, Quality, Fanout, Avro}

// valid reports whether s is one of Shapes.
func (s Shape) valid() bool {
	for _, v := range Shapes {
		if s == v {
			return true
		}
	}
	return false
}

// tableRole says what a table is to its pipeline.
type tableRole string

const (
	roleMain     tableRole = "main"
	roleRoute    tableRole = "route"
	roleRejected tableRole = "rejected"
)

// tableRef is one table a pipeline writes.
type tableRef struct {
	name string
	role tableRole
}

// pipelineFor builds the pipeline of shape s reading topic into bench.<base> (and, for Fanout,
// bench.<base>_<event type>). dataDir holds the demo definitions (definitions/*.json), which Quality reads.
// An Avro pipeline reads subject <topic>-value, which the caller registers (registerAvro).
func pipelineFor(s Shape, dataDir, base, topic string, interval time.Duration) (*config.Pipeline, []tableRef, error) {
	cfg := config.Default(dataDir)
	p := cfg.Pipelines[0]
	p.Name, p.Topics = "bench-"+base, []string{topic}
	p.Group = "bigfather-" + p.Name
	p.Table.Name = "bench." + base
	// Full batches commit on max_rows (500,000) or max_bytes; the interval bounds how long the tail and a
	// live stream's records wait.
	p.Commit.Interval = interval
	p.Routes, p.Completeness = nil, config.Completeness{}
	switch s {
	case Plain, Fanout:
		p.Definitions, p.Cleanse, p.Enrich, p.Dedup = config.Definitions{}, config.Cleanse{}, config.Enrich{}, config.Dedup{}
	case Avro:
		p.Definitions, p.Cleanse, p.Enrich, p.Dedup = config.Definitions{}, config.Cleanse{}, config.Enrich{}, config.Dedup{}
		p.Format, p.Subject, p.Table.Columns = config.FormatAvro, topic+"-value", nil
	case Quality:
		if _, err := demo.WriteDefinitions(filepath.Join(dataDir, "definitions")); err != nil {
			return nil, nil, err
		}
		p.Enrich.Derive = []config.Derived{
			{Name: "is_mobile", Type: config.TypeBoolean, Expr: `platform == "ios" || platform == "android"`},
			{Name: "amount_krw", Type: config.TypeDouble, Expr: `amount == null ? amount : amount * 1300.0`},
		}
	default:
		return nil, nil, fmt.Errorf("unknown shape %q", s)
	}
	tables := []tableRef{{p.Table.Name, roleMain}}
	if s == Fanout {
		for _, typ := range demo.DefinitionNames {
			r := config.Route{Table: p.Table.Name + "_" + typ, When: fmt.Sprintf("event_type == %q", typ)}
			p.Routes = append(p.Routes, r)
			tables = append(tables, tableRef{r.Table, roleRoute})
		}
	}
	tables = append(tables, tableRef{p.Table.Name + stage.RejectedSuffix, roleRejected})
	cfg.Pipelines = []config.Pipeline{p}
	cfg.Metrics = nil // the bench measures staging; the default's game metrics read another table
	if err := cfg.Validate(config.ValidateOptions{EmbeddedBroker: true}); err != nil {
		return nil, nil, fmt.Errorf("benchmark pipeline %s: %w", p.Name, err)
	}
	return &cfg.Pipelines[0], tables, nil
}
