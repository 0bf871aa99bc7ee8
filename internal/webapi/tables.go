package webapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
	"github.com/bigfather/bigfather/internal/lake"
	"github.com/bigfather/bigfather/internal/maintain"
)

// tables is the Tables page's API family.
type tables struct{ p *Platform }

var tableParam = api.Param{Name: "name", In: "path", Description: "namespace.table"}

func (m tables) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/tables", Role: auth.Viewer, Summary: "Tables in the catalog with rows, files, bytes and snapshots", Handler: m.list},
		{Method: http.MethodGet, Path: "/tables/{name}", Role: auth.Viewer, Summary: "A table: schema with field ids, partition spec, snapshot history with the offsets each stored, counts",
			Params: []api.Param{tableParam}, Handler: m.get},
		{Method: http.MethodGet, Path: "/tables/{name}/preview", Role: auth.Viewer, Summary: "The first rows of a table",
			Params: []api.Param{tableParam, {Name: "limit", In: "query", Type: "integer", Description: "rows, 1 to 500 (default 20)"}}, Handler: m.preview},
	}
}

type tableSummary struct {
	Name       string    `json:"name"`
	Rows       int64     `json:"rows"`
	DataFiles  int64     `json:"data_files"`
	Bytes      int64     `json:"bytes"`
	Snapshots  int       `json:"snapshots"`
	LastCommit time.Time `json:"last_commit,omitzero"`
}

func summarize(t *table.Table, name string) tableSummary {
	s := tableSummary{Name: name, Snapshots: len(t.Metadata().Snapshots())}
	if cur := t.CurrentSnapshot(); cur != nil {
		s.LastCommit = time.UnixMilli(cur.TimestampMs).UTC()
		if cur.Summary != nil {
			s.Rows = summaryInt(cur.Summary.Properties, "total-records")
			s.DataFiles = summaryInt(cur.Summary.Properties, "total-data-files")
			s.Bytes = summaryInt(cur.Summary.Properties, "total-files-size")
		}
	}
	return s
}

func (m tables) list(r *api.Request) (any, error) {
	names, err := m.p.Lake.Tables(r.Context())
	if err != nil {
		return nil, api.Unavailable("listing the catalog's tables: %v", err)
	}
	items := []tableSummary{}
	for _, name := range names {
		t, err := m.p.Lake.LoadTable(r.Context(), name)
		if err != nil {
			items = append(items, tableSummary{Name: name})
			continue
		}
		items = append(items, summarize(t, name))
	}
	return map[string]any{"items": items}, nil
}

type schemaField struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	Doc      string `json:"doc,omitempty"`
}

type partitionField struct {
	Name      string `json:"name"`
	Transform string `json:"transform"`
	Source    string `json:"source"`
	FieldID   int    `json:"field_id"`
}

type snapshotInfo struct {
	commitInfo
	ParentID *int64            `json:"parent_id,omitempty"`
	Offsets  map[string]int64  `json:"offsets,omitempty"`
	Summary  map[string]string `json:"summary"`
}

type tableDetail struct {
	tableSummary
	Location      string            `json:"location"`
	FormatVersion int               `json:"format_version"`
	Schema        []schemaField     `json:"schema"`
	PartitionSpec []partitionField  `json:"partition_spec"`
	Properties    map[string]string `json:"properties"`
	SmallFiles    int               `json:"small_files"`
	History       []snapshotInfo    `json:"history"`
	// MaintenanceRun is when this process last maintained the table (scheduled maintenance), if it did.
	MaintenanceRun *time.Time `json:"last_maintenance,omitempty"`
}

func (m tables) load(r *api.Request) (*table.Table, string, error) {
	name := r.PathValue("name")
	if strings.Count(name, ".") != 1 {
		return nil, name, api.BadParam("name", "expected namespace.table, got %q", name)
	}
	t, err := m.p.Lake.LoadTable(r.Context(), name)
	if err != nil {
		return nil, name, api.NotFound("table", name)
	}
	return t, name, nil
}

func (m tables) get(r *api.Request) (any, error) {
	t, name, err := m.load(r)
	if err != nil {
		return nil, err
	}
	md := t.Metadata()
	d := tableDetail{tableSummary: summarize(t, name), Location: t.Location(), FormatVersion: md.Version(),
		Schema: []schemaField{}, PartitionSpec: []partitionField{}, Properties: map[string]string{}, History: []snapshotInfo{}}
	for _, f := range t.Schema().Fields() {
		d.Schema = append(d.Schema, schemaField{ID: f.ID, Name: f.Name, Type: f.Type.String(), Required: f.Required, Doc: f.Doc})
	}
	spec := t.Spec()
	for _, f := range spec.Fields() {
		src := ""
		if sf, ok := t.Schema().FindFieldByID(f.SourceID()); ok {
			src = sf.Name
		}
		d.PartitionSpec = append(d.PartitionSpec, partitionField{Name: f.Name, Transform: f.Transform.String(), Source: src, FieldID: f.FieldID})
	}
	for k, v := range t.Properties() {
		d.Properties[k] = v
	}
	target := m.p.maintenanceTarget()
	if st, err := maintain.Stats(r.Context(), t, target); err == nil {
		d.SmallFiles = st.SmallFiles
	}
	d.MaintenanceRun = m.p.lastMaintenance(name)
	byID := map[int64]table.Snapshot{}
	for _, s := range md.Snapshots() {
		byID[s.SnapshotID] = s
	}
	for _, c := range snapshots(t, name) {
		s := byID[c.SnapshotID]
		info := snapshotInfo{commitInfo: c, ParentID: s.ParentSnapshotID, Summary: map[string]string{}}
		if s.Summary != nil {
			for k, v := range s.Summary.Properties {
				if strings.HasPrefix(k, lake.SnapshotOffsetsPrefix) {
					var offs map[string]int64
					if json.Unmarshal([]byte(v), &offs) == nil {
						info.Offsets = offs
					}
					continue
				}
				info.Summary[k] = v
			}
		}
		d.History = append(d.History, info)
	}
	return d, nil
}

func (m tables) preview(r *api.Request) (any, error) {
	_, name, err := m.load(r)
	if err != nil {
		return nil, err
	}
	limit, err := r.Int("limit", 20, 1, 500)
	if err != nil {
		return nil, err
	}
	eng, err := m.p.engine(r.Context(), name)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	res, err := eng.Query(r.Context(), fmt.Sprintf("select * from %s limit %d", quoteTable(name), limit))
	if err != nil {
		return nil, api.Unavailable("reading %s: %v", name, err)
	}
	return map[string]any{"columns": res.Columns, "types": res.Types, "rows": res.JSONRows()}, nil
}

// maintenanceTarget is the file size compaction aims at (files under 3/4 of it are small).
func (p *Platform) maintenanceTarget() int64 {
	if p.Config != nil && p.Config.Maintenance.TargetFileSize > 0 {
		return p.Config.Maintenance.TargetFileSize
	}
	return 128 << 20
}

// lastMaintenance reads when this process's scheduled maintenance last ran on a table, from its metrics.
func (p *Platform) lastMaintenance(name string) *time.Time {
	if p.Metrics == nil {
		return nil
	}
	families, err := p.Metrics.Registry.Gather()
	if err != nil {
		return nil
	}
	for _, f := range families {
		if f.GetName() != "bigfather_maintenance_last_run_timestamp_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "table" && l.GetValue() == name {
					at := time.Unix(int64(m.GetGauge().GetValue()), 0).UTC()
					return &at
				}
			}
		}
	}
	return nil
}
