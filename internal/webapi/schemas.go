package webapi

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
)

// schemasAPI is the Schemas page's API family. The page reads and changes the registry through the registry's
// own API (/subjects, /config, /compatibility on the same origin); this family adds what only the config
// knows: which pipelines and tables use each subject.
type schemasAPI struct{ p *Platform }

// SchemaUsage is a table that a pipeline fills from a registry subject's schemas.
type SchemaUsage struct {
	Subject  string `json:"subject"`
	Pipeline string `json:"pipeline"`
	Table    string `json:"table"`
	// Format is the pipeline's record format: avro, protobuf or jsonschema.
	Format string `json:"format"`
}

func (m schemasAPI) Routes() []api.Route {
	return []api.Route{{Method: http.MethodGet, Path: "/schemas/usage", Role: auth.Viewer,
		Summary: "The pipelines and tables that use each registry subject (pipelines of a registry format: avro, protobuf, jsonschema), by subject, pipeline, table",
		Params: []api.Param{
			{Name: "subject", In: "query", Description: "only this subject"},
		}, Handler: m.usage}}
}

func (m schemasAPI) usage(r *api.Request) (any, error) {
	only := r.URL.Query().Get("subject")
	items := []SchemaUsage{}
	if m.p.Config != nil {
		for i := range m.p.Config.Pipelines {
			pl := &m.p.Config.Pipelines[i]
			if !pl.Registry() || only != "" && pl.Subject != only {
				continue
			}
			items = append(items, SchemaUsage{Subject: pl.Subject, Pipeline: pl.Name, Table: pl.Table.Name, Format: pl.Format})
			for _, rt := range pl.Routes {
				if rt.Table != "" && rt.Table != pl.Table.Name {
					items = append(items, SchemaUsage{Subject: pl.Subject, Pipeline: pl.Name, Table: rt.Table, Format: pl.Format})
				}
			}
		}
	}
	slices.SortStableFunc(items, func(a, b SchemaUsage) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Pipeline, b.Pipeline), cmp.Compare(a.Table, b.Table))
	})
	items = slices.Compact(items)
	return map[string]any{"items": items}, nil
}
