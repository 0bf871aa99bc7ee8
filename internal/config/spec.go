package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The key specs below are the single source of truth for the YAML layout:
// which keys each mapping accepts (in the order error messages list them),
// which are required, the default applied when a key is absent, and how each
// value is decoded. Semantic checks live in validate.go.

var configKeys = []key[Config]{
	{name: "kafka", def: "{}", decode: set(mapping(kafkaKeys), func(c *Config) *Kafka { return &c.Kafka })},
	{name: "warehouse", def: "./data/warehouse", decode: set(str, func(c *Config) *string { return &c.Warehouse })},
	{name: "s3", decode: set(mapping(s3Keys), func(c *Config) *S3 { return &c.S3 })},
	{name: "catalog", def: "{}", decode: set(mapping(catalogKeys), func(c *Config) *Catalog { return &c.Catalog })},
	{name: "http", def: defaultHTTP, decode: set(str, func(c *Config) *string { return &c.HTTP })},
	{name: "auth", decode: set(mapping(authKeys), func(c *Config) *Auth { return &c.Auth })},
	{name: "maintenance", def: "{}", decode: set(mapping(maintenanceKeys), func(c *Config) *Maintenance { return &c.Maintenance })},
	{name: "memory_limit", def: "auto", decode: set(memoryLimit, func(c *Config) *int64 { return &c.MemoryLimit })},
	{name: "monitor", def: "{}", decode: set(mapping(monitorKeys), func(c *Config) *Monitor { return &c.Monitor })},
	{name: "alerts", def: "{}", decode: set(mapping(alertsKeys), func(c *Config) *Alerts { return &c.Alerts })},
	{name: "pipelines", required: true, decode: set(list(mapping(pipelineKeys)), func(c *Config) *[]Pipeline { return &c.Pipelines })},
	{name: "metrics", decode: set(list(mapping(metricKeys)), func(c *Config) *[]Metric { return &c.Metrics })},
	{name: "metric_files", decode: set(list(str), func(c *Config) *[]string { return &c.MetricFiles })},
	{name: "derived", decode: set(list(mapping(derivedTableKeys)), func(c *Config) *[]DerivedTable { return &c.Derived })},
}

var kafkaKeys = []key[Kafka]{
	{name: "brokers", decode: set(list(str), func(k *Kafka) *[]string { return &k.Brokers })},
}

// s3Keys has no defaults: path_style defaults to true when an endpoint is set (see Validate), and absent
// credentials mean the standard AWS credential chain.
var s3Keys = []key[S3]{
	{name: "endpoint", decode: set(str, func(s *S3) *string { return &s.Endpoint })},
	{name: "region", decode: set(str, func(s *S3) *string { return &s.Region })},
	{name: "path_style", decode: set(boolean, func(s *S3) *bool { return &s.PathStyle })},
	{name: "access_key_id", decode: set(str, func(s *S3) *string { return &s.AccessKeyID })},
	{name: "secret_access_key", decode: set(str, func(s *S3) *string { return &s.SecretAccessKey })},
}

var catalogKeys = []key[Catalog]{
	{name: "uri", def: "sqlite://./data/catalog.db", decode: set(str, func(c *Catalog) *string { return &c.URI })},
	// The rest apply to REST catalogs only (see Validate) and have no defaults.
	{name: "warehouse", decode: set(str, func(c *Catalog) *string { return &c.Warehouse })},
	{name: "prefix", decode: set(str, func(c *Catalog) *string { return &c.Prefix })},
	{name: "token", decode: set(str, func(c *Catalog) *string { return &c.Token })},
	{name: "credential", decode: set(str, func(c *Catalog) *string { return &c.Credential })},
	{name: "oauth2_server_uri", decode: set(str, func(c *Catalog) *string { return &c.OAuth2ServerURI })},
	{name: "scope", decode: set(str, func(c *Catalog) *string { return &c.Scope })},
}

// pipelineKeys has no default for group: it derives from name (see Validate).
var pipelineKeys = []key[Pipeline]{
	{name: "name", required: true, decode: set(str, func(p *Pipeline) *string { return &p.Name })},
	{name: "topics", required: true, decode: set(list(str), func(p *Pipeline) *[]string { return &p.Topics })},
	{name: "start", def: "earliest", decode: set(str, func(p *Pipeline) *string { return &p.Start })},
	{name: "format", def: "json", decode: set(str, func(p *Pipeline) *string { return &p.Format })},
	{name: "subject", decode: set(str, func(p *Pipeline) *string { return &p.Subject })},
	{name: "schema_change", def: "pause", decode: set(str, func(p *Pipeline) *string { return &p.SchemaChange })},
	{name: "group", decode: set(str, func(p *Pipeline) *string { return &p.Group })},
	{name: "table", required: true, decode: set(mapping(tableKeys), func(p *Pipeline) *Table { return &p.Table })},
	{name: "commit", def: "{}", decode: set(mapping(commitKeys), func(p *Pipeline) *Commit { return &p.Commit })},
	// Blocks that switch a feature on (definitions, enrich, filters, dedup,
	// routes, completeness, probe) stay zero when absent; blocks that tune what
	// always happens (limits, on_reject, cleanse) get their defaults.
	{name: "definitions", decode: set(mapping(definitionsKeys), func(p *Pipeline) *Definitions { return &p.Definitions })},
	{name: "limits", def: "{}", decode: set(mapping(limitsKeys), func(p *Pipeline) *Limits { return &p.Limits })},
	{name: "on_reject", def: "{}", decode: set(mapping(onRejectKeys), func(p *Pipeline) *OnReject { return &p.OnReject })},
	{name: "cleanse", def: "{}", decode: set(mapping(cleanseKeys), func(p *Pipeline) *Cleanse { return &p.Cleanse })},
	{name: "enrich", decode: set(mapping(enrichKeys), func(p *Pipeline) *Enrich { return &p.Enrich })},
	{name: "filters", decode: set(list(mapping(filterKeys)), func(p *Pipeline) *[]Filter { return &p.Filters })},
	{name: "dedup", decode: set(mapping(dedupKeys), func(p *Pipeline) *Dedup { return &p.Dedup })},
	{name: "routes", decode: set(list(mapping(routeKeys)), func(p *Pipeline) *[]Route { return &p.Routes })},
	{name: "completeness", decode: set(mapping(completenessKeys), func(p *Pipeline) *Completeness { return &p.Completeness })},
	{name: "probe", decode: set(duration, func(p *Pipeline) *time.Duration { return &p.Probe })},
}

var tableKeys = []key[Table]{
	{name: "name", required: true, decode: set(str, func(t *Table) *string { return &t.Name })},
	{name: "partition_by", decode: set(list(str), func(t *Table) *[]string { return &t.PartitionBy })},
	// columns is required unless definitions are configured; Validate checks it.
	{name: "columns", decode: set(list(mapping(columnKeys)), func(t *Table) *[]Column { return &t.Columns })},
	{name: "shared", def: "false", decode: set(boolean, func(t *Table) *bool { return &t.Shared })},
}

var columnKeys = []key[Column]{
	{name: "name", required: true, decode: set(str, func(c *Column) *string { return &c.Name })},
	{name: "type", required: true, decode: set(str, func(c *Column) *string { return (*string)(&c.Type) })},
	{name: "required", def: "false", decode: set(boolean, func(c *Column) *bool { return &c.Required })},
}

var commitKeys = []key[Commit]{
	{name: "interval", def: "10s", decode: set(duration, func(c *Commit) *time.Duration { return &c.Interval })},
	{name: "max_rows", def: strconv.Itoa(defaultMaxRows), decode: set(integer, func(c *Commit) *int { return &c.MaxRows })},
	{name: "max_bytes", def: strconv.Itoa(defaultMaxBytes), decode: set(size, func(c *Commit) *int64 { return &c.MaxBytes })},
}

var definitionsKeys = []key[Definitions]{
	{name: "select_by", def: "event_type", decode: set(str, func(d *Definitions) *string { return &d.SelectBy })},
	// files is required unless registry is set; Validate checks it.
	{name: "files", decode: set(list(str), func(d *Definitions) *[]string { return &d.Files })},
	{name: "registry", decode: set(mapping(definitionsRegistryKeys), func(d *Definitions) *DefinitionsRegistry { return &d.Registry })},
	{name: "unknown", def: "reject", decode: set(str, func(d *Definitions) *string { return &d.Unknown })},
}

var definitionsRegistryKeys = []key[DefinitionsRegistry]{
	{name: "subject_prefix", required: true, decode: set(str, func(r *DefinitionsRegistry) *string { return &r.SubjectPrefix })},
}

var limitsKeys = []key[Limits]{
	{name: "max_record_bytes", def: "1MiB", decode: set(size, func(l *Limits) *int64 { return &l.MaxRecordBytes })},
	{name: "max_depth", def: "32", decode: set(integer, func(l *Limits) *int { return &l.MaxDepth })},
}

var onRejectKeys = []key[OnReject]{
	{name: "policy", def: PolicyDLQ, decode: set(str, func(o *OnReject) *string { return &o.Policy })},
	{name: "dlq_topic", decode: set(str, func(o *OnReject) *string { return &o.DLQTopic })},
}

var cleanseKeys = []key[Cleanse]{
	{name: "trim", def: "false", decode: set(boolean, func(c *Cleanse) *bool { return &c.Trim })},
	{name: "coerce_numbers", def: "false", decode: set(boolean, func(c *Cleanse) *bool { return &c.CoerceNumbers })},
	{name: "coerce_timestamps", def: "false", decode: set(boolean, func(c *Cleanse) *bool { return &c.CoerceTimestamps })},
	{name: "fields", decode: set(list(mapping(fieldCleanseKeys)), func(c *Cleanse) *[]FieldCleanse { return &c.Fields })},
	{name: "future", def: "{}", decode: set(mapping(futureKeys), func(c *Cleanse) *FutureRule { return &c.Future })},
}

var fieldCleanseKeys = []key[FieldCleanse]{
	{name: "field", required: true, decode: set(str, func(f *FieldCleanse) *string { return &f.Field })},
	{name: "case", decode: set(str, func(f *FieldCleanse) *string { return &f.Case })},
	{name: "aliases", decode: set(stringMap, func(f *FieldCleanse) *map[string]string { return &f.Aliases })},
	{name: "null_if_invalid", def: "false", decode: set(boolean, func(f *FieldCleanse) *bool { return &f.NullIfInvalid })},
}

// futureKeys has no default for max_skew: 0 leaves the rule off.
var futureKeys = []key[FutureRule]{
	{name: "field", def: "event_time", decode: set(str, func(f *FutureRule) *string { return &f.Field })},
	{name: "max_skew", decode: set(duration, func(f *FutureRule) *time.Duration { return &f.MaxSkew })},
	{name: "action", def: "reject", decode: set(str, func(f *FutureRule) *string { return &f.Action })},
}

var enrichKeys = []key[Enrich]{
	{name: "derive", decode: set(list(mapping(derivedKeys)), func(e *Enrich) *[]Derived { return &e.Derive })},
	{name: "lookups", decode: set(list(mapping(lookupKeys)), func(e *Enrich) *[]Lookup { return &e.Lookups })},
}

var derivedKeys = []key[Derived]{
	{name: "name", required: true, decode: set(str, func(d *Derived) *string { return &d.Name })},
	{name: "type", required: true, decode: set(str, func(d *Derived) *string { return (*string)(&d.Type) })},
	{name: "expr", required: true, decode: set(str, func(d *Derived) *string { return &d.Expr })},
}

// lookupKeys has no default for key_column: it derives from key (see Validate).
var lookupKeys = []key[Lookup]{
	{name: "file", required: true, decode: set(str, func(l *Lookup) *string { return &l.File })},
	{name: "key", required: true, decode: set(str, func(l *Lookup) *string { return &l.Key })},
	{name: "key_column", decode: set(str, func(l *Lookup) *string { return &l.KeyColumn })},
	{name: "columns", required: true, decode: set(list(mapping(lookupColumnKeys)), func(l *Lookup) *[]Column { return &l.Columns })},
}

// lookupColumnKeys are columnKeys without required: a lookup miss leaves the added columns null.
var lookupColumnKeys = []key[Column]{
	{name: "name", required: true, decode: set(str, func(c *Column) *string { return &c.Name })},
	{name: "type", required: true, decode: set(str, func(c *Column) *string { return (*string)(&c.Type) })},
}

var filterKeys = []key[Filter]{
	{name: "name", required: true, decode: set(str, func(f *Filter) *string { return &f.Name })},
	{name: "drop", required: true, decode: set(str, func(f *Filter) *string { return &f.Drop })},
}

var dedupKeys = []key[Dedup]{
	{name: "field", required: true, decode: set(str, func(d *Dedup) *string { return &d.Field })},
	{name: "window", def: "24h", decode: set(duration, func(d *Dedup) *time.Duration { return &d.Window })},
	{name: "time_field", def: "event_time", decode: set(str, func(d *Dedup) *string { return &d.TimeField })},
}

// routeKeys: exactly one of when and event_types is set (see Validate).
var routeKeys = []key[Route]{
	{name: "table", required: true, decode: set(str, func(r *Route) *string { return &r.Table })},
	{name: "when", decode: set(str, func(r *Route) *string { return &r.When })},
	{name: "event_types", decode: set(list(str), func(r *Route) *[]string { return &r.EventTypes })},
}

var completenessKeys = []key[Completeness]{
	{name: "producer_field", required: true, decode: set(str, func(c *Completeness) *string { return &c.ProducerField })},
	{name: "seq_field", required: true, decode: set(str, func(c *Completeness) *string { return &c.SeqField })},
}

// specDefaults returns what an empty mapping decodes to under keys: every key
// with a default set to it, the rest zero. Validate uses it to give configs
// built in Go the defaults a YAML file gets from the key specs.
func specDefaults[T any](keys []key[T]) T {
	v, _ := mapping(keys)(&decoder{lines: map[string]int{}}, defaultNode("{}", 0), "")
	return v
}

// key describes one key of a YAML mapping decoded into a T.
type key[T any] struct {
	name     string
	required bool
	// def is YAML text decoded in place of an absent key; "" means no default.
	def    string
	decode func(d *decoder, n *yaml.Node, path string, into *T)
}

// parser decodes one value node, recording an error and returning false when it cannot.
type parser[V any] func(d *decoder, n *yaml.Node, path string) (V, bool)

// set binds a parser to the struct field that at returns.
func set[T, V any](parse parser[V], at func(*T) *V) func(*decoder, *yaml.Node, string, *T) {
	return func(d *decoder, n *yaml.Node, path string, into *T) {
		if v, ok := parse(d, n, path); ok {
			*at(into) = v
		}
	}
}

// decoder walks a yaml.Node tree. It keeps going after an error so that the
// first error in document order can be reported, and records the line of
// every key path for Validate.
type decoder struct {
	file    string
	errs    []*Error
	lines   map[string]int
	secrets []expansion // values ${VAR} references put into the config
}

func (d *decoder) fail(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Key: path, Msg: fmt.Sprintf(format, args...)})
}

// first returns the error on the earliest line, or nil.
func first(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs[0]
}

// decode parses data into a Config with defaults applied, but not validated.
// A file that cannot be walked at all (bad syntax, empty) is an error; every
// problem found while walking it is returned in errs alongside what could be
// decoded, so that Parse can report the first problem in document order.
func decode(path string, data []byte) (c *Config, errs []*Error, err error) {
	docs, err := parseDocs(data)
	if err != nil {
		return nil, nil, syntaxError(path, data, err)
	}
	if len(docs) == 0 || len(docs[0].Content) == 0 || isNull(docs[0].Content[0]) {
		return nil, nil, &Error{File: path, Line: 1, Msg: "config is empty"}
	}
	if len(docs) > 1 {
		return nil, nil, &Error{File: path, Line: docs[1].Line, Msg: "found a second YAML document (expected one)"}
	}

	root := deref(docs[0].Content[0])
	d := &decoder{file: path, lines: map[string]int{"": root.Line}}
	d.expand(docs[0], "", os.LookupEnv)
	v, _ := mapping(configKeys)(d, root, "")
	v.Path = path
	v.lines = d.lines
	v.secrets = d.secrets
	// Definition and lookup files are relative to the config file.
	dir := filepath.Dir(path)
	for i := range v.Pipelines {
		p := &v.Pipelines[i]
		p.Definitions.BaseDir = dir
		for j := range p.Enrich.Lookups {
			p.Enrich.Lookups[j].BaseDir = dir
		}
	}
	for i := range v.Metrics {
		v.Metrics[i].BaseDir = dir
	}
	d.metricFiles(&v, dir)
	return &v, d.errs, nil
}

// metricFiles appends the metrics of c.MetricFiles to c.Metrics, recording which file each came from.
func (d *decoder) metricFiles(c *Config, dir string) {
	for i, pattern := range c.MetricFiles {
		key := fmt.Sprintf("metric_files[%d]", i)
		full := pattern
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, pattern)
		}
		matches, err := filepath.Glob(full)
		if err != nil || len(matches) == 0 {
			d.fail(d.lines[key], key, "no metrics file matches %q", pattern)
			continue
		}
		for _, file := range matches {
			d.metricFile(c, key, file)
		}
	}
}

// metricFile decodes one metrics file: a YAML list of metrics.
func (d *decoder) metricFile(c *Config, key, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		d.fail(d.lines[key], key, "reading metrics file %s: %v", file, err)
		return
	}
	docs, err := parseDocs(data)
	if err != nil {
		var ce *Error
		if errors.As(syntaxError(file, data, err), &ce) {
			d.errs = append(d.errs, ce)
		}
		return
	}
	if len(docs) != 1 || len(docs[0].Content) == 0 || deref(docs[0].Content[0]).Kind != yaml.SequenceNode {
		d.errs = append(d.errs, &Error{File: file, Line: 1, Msg: "expected one YAML list of metrics (the entries of a config's metrics key)"})
		return
	}
	if c.files == nil {
		c.files = map[string]string{}
	}
	fd := &decoder{file: file, lines: d.lines, secrets: d.secrets}
	fd.expand(docs[0], "", os.LookupEnv)
	for _, item := range deref(docs[0].Content[0]).Content {
		path := fmt.Sprintf("metrics[%d]", len(c.Metrics))
		fd.lines[path] = deref(item).Line
		m, _ := mapping(metricKeys)(fd, item, path)
		m.BaseDir = filepath.Dir(file)
		c.Metrics = append(c.Metrics, m)
		c.files[path] = file
	}
	d.errs, d.secrets = append(d.errs, fd.errs...), fd.secrets
}

// parseDocs parses every YAML document in data.
func parseDocs(data []byte) ([]*yaml.Node, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &doc)
	}
}

var yamlErrRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError turns a YAML parse error into a *Error. The yaml library often
// reports the line where the enclosing block started (off by one), so the line
// used is the first one at which data, cut short there, fails the same way.
func syntaxError(path string, data []byte, err error) error {
	m := yamlErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: path, Msg: "invalid YAML: " + err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	lines := bytes.SplitAfter(data, []byte("\n"))
	for k := 1; k <= len(lines); k++ {
		_, perr := parseDocs(bytes.Join(lines[:k], nil))
		if perr == nil {
			continue
		}
		if pm := yamlErrRe.FindStringSubmatch(perr.Error()); pm != nil && pm[2] == msg {
			line = k
			break
		}
	}
	return &Error{File: path, Line: line, Msg: "invalid YAML: " + msg}
}

// mapping returns a parser for a YAML mapping whose keys are described by keys.
func mapping[T any](keys []key[T]) parser[T] {
	return func(d *decoder, n *yaml.Node, path string) (T, bool) {
		var v T
		n = deref(n)
		if n.Kind != yaml.MappingNode {
			d.fail(n.Line, path, "expected a mapping, got %s", describe(n))
			return v, false
		}
		d.lines[path] = n.Line
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := deref(n.Content[i]), n.Content[i+1]
			p := join(path, k.Value)
			if k.Kind != yaml.ScalarNode {
				d.fail(k.Line, path, "expected a plain key, got %s", describe(k))
				continue
			}
			if line, dup := seen[k.Value]; dup {
				d.fail(k.Line, p, "duplicate key (first on line %d)", line)
				continue
			}
			seen[k.Value] = k.Line
			spec := findKey(keys, k.Value)
			if spec == nil {
				d.fail(k.Line, p, "unknown key (expected one of: %s)", keyNames(keys))
				continue
			}
			d.lines[p] = deref(val).Line
			spec.decode(d, val, p, &v)
		}
		for _, spec := range keys {
			if _, ok := seen[spec.name]; ok {
				continue
			}
			p := join(path, spec.name)
			switch {
			case spec.required:
				d.fail(n.Line, p, "missing required key")
			case spec.def != "":
				d.lines[p] = n.Line
				spec.decode(d, defaultNode(spec.def, n.Line), p, &v)
			}
		}
		return v, true
	}
}

// list returns a parser for a YAML sequence whose items elem decodes.
func list[E any](elem parser[E]) parser[[]E] {
	return func(d *decoder, n *yaml.Node, path string) ([]E, bool) {
		n = deref(n)
		if n.Kind != yaml.SequenceNode {
			d.fail(n.Line, path, "expected a list, got %s", describe(n))
			return nil, false
		}
		out := make([]E, 0, len(n.Content))
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = deref(item).Line
			v, _ := elem(d, item, p)
			out = append(out, v)
		}
		return out, true
	}
}

// stringMap parses a mapping of plain keys to string values, such as cleanse aliases.
func stringMap(d *decoder, n *yaml.Node, path string) (map[string]string, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.fail(n.Line, path, "expected a mapping of strings, got %s", describe(n))
		return nil, false
	}
	out := make(map[string]string, len(n.Content)/2)
	seen := map[string]int{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.fail(k.Line, path, "expected a plain key, got %s", describe(k))
			ok = false
			continue
		}
		p := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.fail(k.Line, p, "duplicate key (first on line %d)", line)
			ok = false
			continue
		}
		seen[k.Value] = k.Line
		d.lines[p] = deref(val).Line
		s, good := str(d, val, p)
		if !good {
			ok = false
			continue
		}
		out[k.Value] = s
	}
	return out, ok
}

// scalar returns n's text, or records "expected WANT, got ..." when n is not a non-empty scalar.
func scalar(d *decoder, n *yaml.Node, path, want string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.fail(n.Line, path, "expected %s, got %s", want, describe(n))
		return "", false
	}
	return n.Value, true
}

func str(d *decoder, n *yaml.Node, path string) (string, bool) {
	return scalar(d, n, path, "a string")
}

func boolean(d *decoder, n *yaml.Node, path string) (bool, bool) {
	s, ok := scalar(d, n, path, "true or false")
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	d.fail(deref(n).Line, path, "expected true or false, got %q", s)
	return false, false
}

func integer(d *decoder, n *yaml.Node, path string) (int, bool) {
	s, ok := scalar(d, n, path, "an integer")
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 0)
	if err != nil {
		d.fail(deref(n).Line, path, "expected an integer, got %q", s)
		return 0, false
	}
	return int(i), true
}

func duration(d *decoder, n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := scalar(d, n, path, "a duration like 10s")
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.fail(deref(n).Line, path, "%v", err)
		return 0, false
	}
	return v, true
}

var sizeRe = regexp.MustCompile(`^([0-9][0-9_]*)\s*([A-Za-z]*)$`)

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// size parses a byte count: an integer, or an integer with a unit such as 64MB or 128MiB.
// memoryLimit is a size, "auto" (MemoryLimitAuto) or "off" (MemoryLimitOff).
func memoryLimit(d *decoder, n *yaml.Node, path string) (int64, bool) {
	if n = deref(n); n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "auto":
			return MemoryLimitAuto, true
		case "off":
			return MemoryLimitOff, true
		}
	}
	v, ok := size(d, n, path)
	if ok && v < 64<<20 {
		d.fail(n.Line, path, "expected auto, off or a size of at least 64MiB, got %q", n.Value)
		return 0, false
	}
	return v, ok
}

func size(d *decoder, n *yaml.Node, path string) (int64, bool) {
	const want = "a size like 128MiB or a number of bytes"
	s, ok := scalar(d, n, path, want)
	if !ok {
		return 0, false
	}
	if m := sizeRe.FindStringSubmatch(s); m != nil {
		num, err := strconv.ParseInt(strings.ReplaceAll(m[1], "_", ""), 10, 64)
		unit, known := sizeUnits[strings.ToLower(m[2])]
		if err == nil && known && num <= math.MaxInt64/unit {
			return num * unit, true
		}
	}
	d.fail(deref(n).Line, path, "expected %s, got %q", want, s)
	return 0, false
}

// deref follows YAML aliases to the anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's kind for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "an empty value"
		case "!!bool":
			return fmt.Sprintf("a boolean (%s)", n.Value)
		case "!!int":
			return fmt.Sprintf("an integer (%s)", n.Value)
		case "!!float":
			return fmt.Sprintf("a number (%s)", n.Value)
		default:
			return "a string"
		}
	}
	return "an unsupported YAML node"
}

// defaultNode turns a key spec's default into the node an explicit value would be.
func defaultNode(def string, line int) *yaml.Node {
	if def == "{}" {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: def, Line: line}
}

func findKey[T any](keys []key[T], name string) *key[T] {
	for i := range keys {
		if keys[i].name == name {
			return &keys[i]
		}
	}
	return nil
}

func keyNames[T any](keys []key[T]) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
