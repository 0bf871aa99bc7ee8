package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ValidateOptions holds the checks that depend on the command being run.
type ValidateOptions struct {
	// EmbeddedBroker allows an empty kafka.brokers list. Only `bigfather up`
	// sets it, because it starts its own broker. Load and Parse validate with
	// it set; commands that need real brokers validate again without it.
	EmbeddedBroker bool
}

var (
	pipelineNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	tableNameRe    = regexp.MustCompile(`^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$`)
	columnNameRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	topicNameRe    = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	partitionRe    = regexp.MustCompile(`^([A-Za-z_]+)\s*\((.*)\)$`)
)

// reservedColumns are added to every staged row by the pipeline itself.
var reservedColumns = []string{"_topic", "_partition", "_offset", "_kafka_timestamp", "_ingested_at"}

// partitionableSystemColumns are reserved columns that partition_by may use without declaring them.
var partitionableSystemColumns = map[string]ColumnType{"_kafka_timestamp": TypeTimestamp, "_ingested_at": TypeTimestamp}

var formats = []string{"json", "avro", "protobuf", "jsonschema"}

// Validate fills the derived fields (a default Group, Table.Partitions, each
// lookup's KeyColumn) and checks everything the YAML layout cannot express:
// names, enums, URIs, partition transforms against column types, fields
// against declared columns, files on disk, and duplicates. A config built in
// Go rather than loaded from YAML (such as Default's) first gets the defaults
// of the key specs wherever it left a value zero. Validate returns the first
// problem in document order as a *Error.
func (c *Config) Validate(opts ValidateOptions) error {
	errs := c.check(opts, nil)
	redact(errs, c.secrets)
	return first(errs)
}

// check is Validate returning every problem found, in no particular order.
// decodeErrs are the problems found while decoding; checks that compare keys
// skip keys that failed to decode rather than report a misleading problem.
func (c *Config) check(opts ValidateOptions, decodeErrs []*Error) []*Error {
	v := &validator{c: c, decodeErrs: decodeErrs}
	if c.lines == nil { // built in Go: zero means "not set"
		for i := range c.Pipelines {
			fillDefaults(&c.Pipelines[i])
		}
	}
	v.config(opts)
	return v.errs
}

type validator struct {
	c          *Config
	errs       []*Error
	decodeErrs []*Error
}

// broken reports whether anything at or under path failed to decode.
func (v *validator) broken(path string) bool {
	for _, e := range v.decodeErrs {
		if e.Key == path || strings.HasPrefix(e.Key, path+".") || strings.HasPrefix(e.Key, path+"[") {
			return true
		}
	}
	return false
}

// present reports whether the file set path explicitly. Keys with a default
// count as present too; use it only for keys without one. A config built in
// Go has no keys present.
func (v *validator) present(path string) bool {
	_, ok := v.c.lines[path]
	return ok
}

// fail records a problem at key path, on the line recorded for path or its nearest recorded parent.
func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.c.fileOf(path), Line: v.c.line(path), Key: path, Msg: fmt.Sprintf(format, args...)})
}

// fileOf is the file the value at key path was read from.
func (c *Config) fileOf(path string) string {
	for prefix, file := range c.files {
		if path == prefix || strings.HasPrefix(path, prefix+".") || strings.HasPrefix(path, prefix+"[") {
			return file
		}
	}
	return c.Path
}

func (c *Config) line(path string) int {
	for path != "" {
		if l, ok := c.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return c.lines[""]
}

func (v *validator) config(opts ValidateOptions) {
	c := v.c
	if len(c.Kafka.Brokers) == 0 && !opts.EmbeddedBroker {
		v.fail("kafka.brokers", "no brokers configured (only `bigfather up` can run without them, using its embedded broker)")
	}
	for i, b := range c.Kafka.Brokers {
		if strings.TrimSpace(b) == "" || strings.Contains(b, "://") {
			v.fail(fmt.Sprintf("kafka.brokers[%d]", i), "expected host:port, got %q", b)
		}
	}
	v.warehouse(c.Warehouse)
	v.s3(c)
	v.catalog(c.Catalog.URI)
	v.restCatalog(c)
	if _, port, err := net.SplitHostPort(c.HTTP); err != nil || !isPort(port) {
		v.fail("http", "expected host:port, got %q", c.HTTP)
	}
	v.auth(c)
	v.maintenance(c)
	v.monitor(c)
	v.alerts(c)
	v.metrics(c)
	if len(c.Pipelines) == 0 {
		v.fail("pipelines", "at least one pipeline is required")
	}
	names := map[string]int{}
	tables := map[string]tableUse{}
	groups := map[string]int{}
	for i := range c.Pipelines {
		p := &c.Pipelines[i]
		path := fmt.Sprintf("pipelines[%d]", i)
		v.pipeline(p, path)
		if p.Probe < 0 || (p.Probe > 0 && p.Probe < time.Second) {
			v.fail(path+".probe", "must be at least 1s (or 0 for no probe), got %s", p.Probe)
		}
		if j, dup := names[p.Name]; dup {
			v.fail(path+".name", "duplicate pipeline name %q (also pipelines[%d])", p.Name, j)
		} else {
			names[p.Name] = i
		}
		name := p.Table.Name
		if use, ok := tables[name]; ok {
			v.fail(path+".table.name", "table %q is already used by pipeline %s", name, use.by)
		} else if use, ok := tables[name+"_rejected"]; ok {
			v.fail(path+".table.name", "table %q needs %q for rejected records, but it is already used by pipeline %s", name, name+"_rejected", use.by)
		} else {
			tables[name] = tableUse{pipeline: i, by: strconv.Quote(p.Name)}
			tables[name+"_rejected"] = tableUse{pipeline: i, by: fmt.Sprintf("%q for rejected records", p.Name)}
		}
		v.routeTables(p, i, path, tables)
		if j, dup := groups[p.Group]; dup {
			v.fail(path+".group", "consumer group %q is already used by pipeline %q", p.Group, c.Pipelines[j].Name)
		} else {
			groups[p.Group] = i
		}
	}
}

// tableUse says which pipeline writes a table, and how.
type tableUse struct {
	pipeline int
	by       string // the pipeline, quoted, and how it uses the table
	route    bool
}

// routeTables checks p's route tables against the tables other pipelines
// write, and records them. Several pipelines may route into one table; no
// route may write another pipeline's own or rejected table. Problems within
// p (its own tables, duplicates, names) are routes' job.
func (v *validator) routeTables(p *Pipeline, i int, path string, tables map[string]tableUse) {
	for j, r := range p.Routes {
		if !tableNameRe.MatchString(r.Table) || r.Table == p.Table.Name || r.Table == p.Table.Name+"_rejected" {
			continue
		}
		use, ok := tables[r.Table]
		switch {
		case !ok:
			tables[r.Table] = tableUse{pipeline: i, by: fmt.Sprintf("%q as a route", p.Name), route: true}
		case use.pipeline != i && !use.route:
			v.fail(fmt.Sprintf("%s.routes[%d].table", path, j), "route table %q is already used by pipeline %s", r.Table, use.by)
		}
	}
}

func (v *validator) warehouse(w string) {
	switch {
	case strings.TrimSpace(w) == "":
		v.fail("warehouse", "must not be empty")
	case strings.HasPrefix(w, "s3://"):
		if bucket, _, _ := strings.Cut(strings.TrimPrefix(w, "s3://"), "/"); bucket == "" {
			v.fail("warehouse", "expected s3://bucket/prefix, got %q", w)
		}
	case strings.Contains(w, "://"):
		v.fail("warehouse", "unsupported warehouse %q (expected a local path or s3://bucket/prefix)", w)
	}
}

// s3 checks the s3 block against the warehouse: an s3:// warehouse needs a region or an endpoint, static
// credentials come in pairs, and the endpoint is an http(s) URL. It fills path_style's default. A secret
// written into the file is added to the values errors never show.
func (v *validator) s3(c *Config) {
	s := &c.S3
	if len(s.SecretAccessKey) >= 4 { // shorter ones would garble messages more than they hide
		c.secrets = append(c.secrets, expansion{value: s.SecretAccessKey, ref: "<redacted>"})
	}
	if !v.present("s3.path_style") && s.Endpoint != "" {
		s.PathStyle = true
	}
	if !strings.HasPrefix(c.Warehouse, "s3://") {
		return
	}
	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
			v.fail("s3.endpoint", "expected http(s)://host[:port], got %q", s.Endpoint)
		}
	}
	if s.Region == "" && s.Endpoint == "" && !v.broken("s3") {
		at := "s3.region"
		if !v.present("s3") {
			at = "warehouse"
		}
		v.fail(at, "an s3:// warehouse needs s3.region (or s3.endpoint for an S3-compatible store)")
	}
	switch {
	case s.AccessKeyID != "" && s.SecretAccessKey == "":
		v.fail("s3.access_key_id", "s3.secret_access_key is missing (give both, or neither to use the AWS credential chain)")
	case s.AccessKeyID == "" && s.SecretAccessKey != "":
		v.fail("s3.secret_access_key", "s3.access_key_id is missing (give both, or neither to use the AWS credential chain)")
	}
}

func (v *validator) catalog(uri string) {
	const want = "expected sqlite://PATH, postgres://..., postgresql://... or http(s)://... for a REST catalog"
	u, err := url.Parse(uri)
	if err != nil || uri == "" {
		v.fail("catalog.uri", "invalid catalog URI %q (%s)", uri, want)
		return
	}
	switch u.Scheme {
	case "sqlite":
		if strings.TrimPrefix(uri, "sqlite://") == "" || !strings.HasPrefix(uri, "sqlite://") {
			v.fail("catalog.uri", "expected sqlite://PATH, got %q", uri)
		}
	case "postgres", "postgresql", "http", "https":
		if u.Host == "" {
			v.fail("catalog.uri", "catalog URI %q has no host", uri)
		}
	default:
		v.fail("catalog.uri", "unsupported catalog URI %q (%s)", uri, want)
	}
}

// restCatalog checks the REST catalog keys: they need an http(s):// catalog.uri, a token excludes a
// credential, and the OAuth2 settings need a credential. The token and the credential's secret are added to
// the values errors never show.
func (v *validator) restCatalog(c *Config) {
	cat := &c.Catalog
	if len(cat.Token) >= 4 {
		c.secrets = append(c.secrets, expansion{value: cat.Token, ref: "<redacted>"})
	}
	if cat.Credential != "" {
		secret := cat.Credential
		if _, s, ok := strings.Cut(cat.Credential, ":"); ok {
			secret = s
		}
		if len(secret) >= 4 {
			c.secrets = append(c.secrets, expansion{value: secret, ref: "<redacted>"})
		}
	}
	keys := []struct {
		name string
		set  bool
	}{
		{"warehouse", cat.Warehouse != ""}, {"prefix", cat.Prefix != ""}, {"token", cat.Token != ""},
		{"credential", cat.Credential != ""}, {"oauth2_server_uri", cat.OAuth2ServerURI != ""}, {"scope", cat.Scope != ""},
	}
	if !cat.REST() {
		for _, k := range keys {
			if k.set {
				v.fail("catalog."+k.name, "applies only to an Iceberg REST catalog (an http(s):// catalog.uri)")
			}
		}
		return
	}
	if cat.Prefix != "" && (strings.HasPrefix(cat.Prefix, "/") || strings.HasSuffix(cat.Prefix, "/") || strings.Contains(cat.Prefix, "//")) {
		v.fail("catalog.prefix", "expected a path segment such as \"warehouse\" or \"a/b\", without leading or trailing slashes, got %q", cat.Prefix)
	}
	switch {
	case cat.Token != "" && cat.Credential != "":
		v.fail("catalog.credential", "give catalog.token or catalog.credential, not both")
	case cat.Credential != "":
		id, secret, ok := strings.Cut(cat.Credential, ":")
		if !ok || id == "" || secret == "" {
			v.fail("catalog.credential", "expected CLIENT_ID:CLIENT_SECRET")
		}
	}
	if cat.Credential == "" {
		if cat.OAuth2ServerURI != "" {
			v.fail("catalog.oauth2_server_uri", "needs catalog.credential (the OAuth2 client credentials to exchange there)")
		}
		if cat.Scope != "" {
			v.fail("catalog.scope", "needs catalog.credential (the scope is requested with the OAuth2 client credentials)")
		}
	}
	if cat.OAuth2ServerURI != "" {
		u, err := url.Parse(cat.OAuth2ServerURI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			v.fail("catalog.oauth2_server_uri", "expected an http(s):// URL of the OAuth2 token endpoint, got %q", cat.OAuth2ServerURI)
		}
	}
}

func (v *validator) pipeline(p *Pipeline, path string) {
	if !pipelineNameRe.MatchString(p.Name) {
		v.fail(path+".name", "invalid pipeline name %q (expected [a-z0-9][a-z0-9_-]*)", p.Name)
	}
	if len(p.Topics) == 0 {
		v.fail(path+".topics", "at least one topic is required")
	}
	for i, t := range p.Topics {
		tp := fmt.Sprintf("%s.topics[%d]", path, i)
		switch {
		case !topicNameRe.MatchString(t) || t == "." || t == ".." || len(t) > 249:
			v.fail(tp, "invalid topic name %q (expected up to 249 letters, digits, '.', '_' or '-')", t)
		case slices.Contains(p.Topics[:i], t):
			v.fail(tp, "duplicate topic %q", t)
		}
	}
	if p.Start != "earliest" && p.Start != "latest" {
		v.fail(path+".start", "unknown start position %q (expected one of: earliest, latest)", p.Start)
	}
	if !slices.Contains(formats, p.Format) {
		v.fail(path+".format", "unknown format %q (expected one of: %s)", p.Format, strings.Join(formats, ", "))
	}
	v.registryFormat(p, path)
	if p.Group == "" {
		p.Group = "bigfather-" + p.Name
	}
	// With definitions, the schemas decide which fields exist. Definitions
	// that failed to decode count as configured, to not blame the columns.
	defs := p.Definitions.Enabled() || v.broken(path+".definitions") || p.Registry()
	v.table(&p.Table, path+".table", defs)
	v.commit(p.Commit, path+".commit")
	v.quality(p, path, defs)
}

// table checks t. With defs (definitions configured) columns may be left
// out, and partition_by may name columns that only the schemas declare.
func (v *validator) table(t *Table, path string, defs bool) {
	if !tableNameRe.MatchString(t.Name) {
		v.fail(path+".name", "invalid table name %q (expected namespace.table, each part [a-z_][a-z0-9_]*)", t.Name)
	}
	switch {
	case len(t.Columns) > 0 || defs || v.broken(path+".columns"):
	case v.present(path + ".columns"):
		v.fail(path+".columns", "at least one column is required")
	default:
		v.fail(path+".columns", "missing required key (columns are required unless definitions are configured)")
	}
	types := map[string]ColumnType{}
	declared := map[string]int{} // lower-cased name -> index; query engines fold case
	for i, col := range t.Columns {
		cp := fmt.Sprintf("%s.columns[%d]", path, i)
		lower := strings.ToLower(col.Name)
		switch {
		case !columnNameRe.MatchString(col.Name):
			v.fail(cp+".name", "invalid column name %q (expected letters, digits and _, not starting with a digit)", col.Name)
		case slices.Contains(reservedColumns, lower):
			v.fail(cp+".name", "column name %q is reserved (the pipeline adds %s itself)", col.Name, strings.Join(reservedColumns, ", "))
		default:
			if j, dup := declared[lower]; dup {
				v.fail(cp+".name", "duplicate column name %q (also columns[%d])", col.Name, j)
			} else {
				declared[lower] = i
			}
		}
		if !slices.Contains(columnTypes, col.Type) {
			v.fail(cp+".type", "unknown column type %q (expected one of: %s)", col.Type, joinTypes(columnTypes))
		}
		types[col.Name] = col.Type
	}
	for name, typ := range partitionableSystemColumns {
		types[name] = typ
	}

	t.Partitions = nil
	timeSource := map[string]int{} // column -> index of its year/month/day/hour field
	for i, expr := range t.PartitionBy {
		pp := fmt.Sprintf("%s.partition_by[%d]", path, i)
		f, msg := parsePartition(expr)
		if _, known := types[f.Column]; msg == "" && !v.broken(path+".columns") && (known || !defs) {
			msg = checkPartition(f, types)
		}
		if msg == "" {
			for j, g := range t.Partitions {
				if g == f {
					msg = fmt.Sprintf("duplicate partition field %q (also partition_by[%d])", expr, j)
					break
				}
			}
		}
		if msg == "" && isTimeTransform(f.Transform) {
			if j, dup := timeSource[f.Column]; dup {
				msg = fmt.Sprintf("column %q already has a time partition (partition_by[%d])", f.Column, j)
			} else {
				timeSource[f.Column] = i
			}
		}
		if msg != "" {
			v.fail(pp, "%s", msg)
			continue
		}
		t.Partitions = append(t.Partitions, f)
	}
}

// parsePartition parses one partition_by entry; msg says what is wrong, "" if nothing.
func parsePartition(expr string) (f PartitionField, msg string) {
	s := strings.TrimSpace(expr)
	unknown := fmt.Sprintf("unknown partition transform %q (expected identity, year, month, day, hour, bucket[N], truncate[W])", expr)
	if columnNameRe.MatchString(s) {
		return PartitionField{Transform: "identity", Column: s}, ""
	}
	m := partitionRe.FindStringSubmatch(s)
	if m == nil {
		return f, unknown
	}
	transform := m[1]
	args := strings.Split(m[2], ",")
	for i := range args {
		args[i] = strings.TrimSpace(args[i])
	}
	switch transform {
	case "identity", "year", "month", "day", "hour":
		if len(args) != 1 || args[0] == "" {
			return f, fmt.Sprintf("%s takes one column, e.g. %s(event_time), got %q", transform, transform, expr)
		}
		return PartitionField{Transform: transform, Column: args[0]}, ""
	case "bucket", "truncate":
		param := map[string]string{"bucket": "N", "truncate": "W"}[transform]
		if len(args) != 2 || args[1] == "" {
			return f, fmt.Sprintf("%s takes a number and a column, e.g. %s(16, player_id), got %q", transform, transform, expr)
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n <= 0 {
			return f, fmt.Sprintf("%s[%s] needs a positive integer %s, got %q", transform, param, param, args[0])
		}
		return PartitionField{Transform: transform, Column: args[1], Param: n}, ""
	}
	return f, unknown
}

// checkPartition checks that f's column exists and suits its transform.
func checkPartition(f PartitionField, types map[string]ColumnType) string {
	typ, ok := types[f.Column]
	if !ok {
		return fmt.Sprintf("column %q is not declared in columns", f.Column)
	}
	var allowed []ColumnType
	switch f.Transform {
	case "year", "month", "day":
		allowed = []ColumnType{TypeTimestamp, TypeDate}
	case "hour":
		allowed = []ColumnType{TypeTimestamp}
	case "truncate":
		allowed = []ColumnType{TypeString, TypeInt, TypeLong}
	case "bucket":
		allowed = []ColumnType{TypeString, TypeInt, TypeLong, TypeDate, TypeTimestamp}
	default:
		return ""
	}
	if slices.Contains(allowed, typ) {
		return ""
	}
	return fmt.Sprintf("%s needs a %s column; %q is %s", f.Transform, orList(allowed), f.Column, typ)
}

func isTimeTransform(t string) bool {
	return t == "year" || t == "month" || t == "day" || t == "hour"
}

func (v *validator) commit(c Commit, path string) {
	if c.Interval <= 0 {
		v.fail(path+".interval", "must be a positive duration, got %s", c.Interval)
	}
	if c.MaxRows <= 0 {
		v.fail(path+".max_rows", "must be a positive integer, got %d", c.MaxRows)
	}
	if c.MaxBytes <= 0 {
		v.fail(path+".max_bytes", "must be a positive size, got %d", c.MaxBytes)
	}
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}

func joinTypes(ts []ColumnType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// orList renders "a", "a or b", "a, b or c".
func orList(ts []ColumnType) string {
	s := joinTypes(ts[:len(ts)-1])
	if s == "" {
		return string(ts[len(ts)-1])
	}
	return s + " or " + string(ts[len(ts)-1])
}

// registryFormat checks the keys of registry-framed formats: the subject, the schema change policy, and that
// the columns come from the schema rather than the config.
func (v *validator) registryFormat(p *Pipeline, path string) {
	if p.SchemaChange == "" {
		p.SchemaChange = SchemaChangePause
	}
	if p.SchemaChange != SchemaChangePause && p.SchemaChange != SchemaChangeReject {
		v.fail(path+".schema_change", "unknown schema_change %q (expected pause or reject)", p.SchemaChange)
	}
	if !p.Registry() {
		if p.Subject != "" {
			v.fail(path+".subject", "subject is only for registry formats (avro, protobuf, jsonschema); format is %q", p.Format)
		}
		return
	}
	if p.Subject == "" && len(p.Topics) > 0 {
		p.Subject = p.Topics[0] + "-value"
	}
	if len(p.Table.Columns) > 0 {
		v.fail(path+".table.columns", "format %s takes its columns from the registry subject %q; remove table.columns", p.Format, p.Subject)
	}
	if v.c.Catalog.REST() {
		v.fail(path+".format", "format %s reads its schemas from the schema registry, which lives in the catalog database; "+
			"a REST catalog does not give one: use a sqlite:// or postgres:// catalog.uri", p.Format)
	}
	if p.Definitions.Enabled() {
		v.fail(path+".definitions", "format %s is validated by its registry schema; log definitions are for json", p.Format)
	}
}
