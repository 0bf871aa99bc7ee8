package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bigfather/bigfather/internal/platformdb"
	"github.com/bigfather/bigfather/internal/registry"
	"github.com/bigfather/bigfather/internal/registry/schema"
)

const schemasUsage = `usage: bigfather schemas COMMAND [flags]

  list [--prefix P] [--deleted]                         subjects: latest version, id, type, compatibility level
  show SUBJECT [--version N|latest]                     a version: its schema pretty-printed, id, type, references, level
  diff SUBJECT V1 V2                                    a line diff of two versions, and the compatibility verdict between them
  check SUBJECT FILE [--type AVRO|JSON|PROTOBUF]        is FILE compatible with the subject under its level (exit 1 if not)
  register SUBJECT FILE [--type ...] [--references F]   register FILE under SUBJECT (F: a JSON list of {name, subject, version})

Every command takes --config FILE (or --data DIR) to open the registry in the catalog database, or --url
http://HOST:PORT [--token T] (default $BIGFATHER_TOKEN) to ask a running process; and --format table|json.`

// cmdSchemas runs `bigfather schemas list|show|diff|check|register`: the schema registry from a terminal, read
// from the catalog database directly or through a running process's registry API.
func cmdSchemas(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, schemasUsage)
		return usagef("schemas: missing command (list, show, diff, check or register)")
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, schemasUsage)
		return nil
	}
	sc := &schemasCmd{name: args[0], stdout: stdout, log: log}
	fs := newFlags("schemas "+sc.name, stderr)
	sc.common(fs)
	var run func(ctx context.Context, c *regClient, pos []string) error
	switch sc.name {
	case "list":
		prefix := fs.String("prefix", "", "only subjects whose names start with this")
		deleted := fs.Bool("deleted", false, "include soft-deleted subjects")
		run = func(ctx context.Context, c *regClient, pos []string) error {
			if len(pos) != 0 {
				return usagef("schemas list: unexpected argument %q (filter with --prefix)", pos[0])
			}
			return sc.list(ctx, c, *prefix, *deleted)
		}
	case "show":
		version := fs.String("version", "latest", "the version: a number, or latest")
		run = func(ctx context.Context, c *regClient, pos []string) error {
			if len(pos) != 1 {
				return usagef("schemas show: want one SUBJECT argument, got %d", len(pos))
			}
			v, err := versionArg(sc.name, "--version", *version)
			if err != nil {
				return err
			}
			return sc.show(ctx, c, pos[0], v)
		}
	case "diff":
		run = func(ctx context.Context, c *regClient, pos []string) error {
			if len(pos) != 3 {
				return usagef("schemas diff: want SUBJECT V1 V2, got %d arguments", len(pos))
			}
			from, err := versionArg(sc.name, "V1", pos[1])
			if err != nil {
				return err
			}
			to, err := versionArg(sc.name, "V2", pos[2])
			if err != nil {
				return err
			}
			return sc.diff(ctx, c, pos[0], from, to)
		}
	case "check", "register":
		typ := fs.String("type", "", "schema type: AVRO, JSON or PROTOBUF (default: PROTOBUF for .proto files, else the subject's type, else AVRO)")
		var refs *string
		if sc.name == "register" {
			refs = fs.String("references", "", "a JSON file listing the schema's references: [{\"name\", \"subject\", \"version\"}]")
		}
		run = func(ctx context.Context, c *regClient, pos []string) error {
			if len(pos) != 2 {
				return usagef("schemas %s: want SUBJECT FILE, got %d arguments", sc.name, len(pos))
			}
			if *typ != "" {
				if _, err := schema.ParseType(strings.ToUpper(*typ)); err != nil {
					return usagef("schemas %s: --type: %v", sc.name, err)
				}
			}
			req, err := readSchemaFile(pos[1], strings.ToUpper(*typ), refs)
			if err != nil {
				return err
			}
			if req.SchemaType == "" {
				if req.SchemaType, err = c.subjectType(ctx, pos[0]); err != nil {
					return err
				}
			}
			if sc.name == "check" {
				return sc.check(ctx, c, pos[0], req)
			}
			return sc.register(ctx, c, pos[0], req)
		}
	default:
		fmt.Fprintln(stderr, schemasUsage)
		return usagef("schemas: unknown command %q (expected list, show, diff, check or register)", sc.name)
	}
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if sc.format != "table" && sc.format != "json" {
		return usagef("schemas %s: --format must be table or json, got %q", sc.name, sc.format)
	}
	c, closeFn, err := sc.client(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := run(ctx, c, pos); err != nil {
		var ue *usageError
		if errors.As(err, &ue) || errors.Is(err, errIncompatible) {
			return err
		}
		return fmt.Errorf("schemas %s: %w", sc.name, err)
	}
	return nil
}

// schemasCmd is one run of a schemas command: its common flags and where it prints.
type schemasCmd struct {
	name                     string
	config, data, url, token string
	format                   string
	stdout                   io.Writer
	log                      *slog.Logger
}

// common defines the flags every schemas command takes.
func (sc *schemasCmd) common(fs *flag.FlagSet) {
	fs.StringVar(&sc.config, "config", "", "config file: the registry is read from its catalog database (default: the defaults under --data)")
	fs.StringVar(&sc.data, "data", "./data", "data directory, when there is neither --config nor --url")
	fs.StringVar(&sc.url, "url", "", "the main HTTP address of a running bigfather process, http://HOST:PORT, instead of the database")
	fs.StringVar(&sc.token, "token", "", "bearer token for --url when auth is configured (default: $BIGFATHER_TOKEN)")
	fs.StringVar(&sc.format, "format", "table", "output: table or json")
}

// parseInterspersed parses fs's flags anywhere among args and returns the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// versionArg reads a version argument: a number from 1, or latest (or -1).
func versionArg(cmd, what, s string) (int, error) {
	if s == "latest" || s == "-1" {
		return registry.Latest, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, usagef("schemas %s: %s must be a version number from 1, or latest; got %q", cmd, what, s)
	}
	return n, nil
}

// client connects to the registry: through --url, or in this process over the catalog database.
func (sc *schemasCmd) client(ctx context.Context) (*regClient, func(), error) {
	if sc.url != "" {
		if sc.config != "" {
			return nil, nil, usagef("schemas %s: give --url or --config, not both", sc.name)
		}
		u, err := url.Parse(sc.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, usagef("schemas %s: --url must be http://HOST:PORT, got %q", sc.name, sc.url)
		}
		token := sc.token
		if token == "" {
			token = os.Getenv("BIGFATHER_TOKEN")
		}
		return &regClient{base: strings.TrimRight(sc.url, "/"), token: token, hc: &http.Client{Timeout: 30 * time.Second}}, func() {}, nil
	}
	cfg, err := loadConfig(sc.config, sc.data, sc.config == "")
	if err != nil {
		return nil, nil, err
	}
	if !platformdb.Supported(cfg.Catalog.URI) {
		return nil, nil, usagef("schemas %s: the registry lives in a SQLite or Postgres catalog, and this config's catalog is not one; give --url of a running process", sc.name)
	}
	store, err := registry.Open(ctx, cfg.Catalog.URI)
	if err != nil {
		return nil, nil, fmt.Errorf("schemas %s: %w", sc.name, err)
	}
	h := registry.NewHandler(store, registry.WithLogger(sc.log))
	return &regClient{base: "http://registry", hc: &http.Client{Transport: handlerTransport{h}}}, func() { store.Close() }, nil
}

// handlerTransport answers requests with a handler in this process: the registry's own API over its store,
// so that the command's verdicts are exactly the server's.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := &memResponse{header: http.Header{}, code: http.StatusOK}
	t.h.ServeHTTP(w, r)
	return &http.Response{StatusCode: w.code, Status: fmt.Sprintf("%d %s", w.code, http.StatusText(w.code)), Header: w.header,
		Body: io.NopCloser(&w.body), ContentLength: int64(w.body.Len()), Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// memResponse is a response written to memory.
type memResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
	wrote  bool
}

func (m *memResponse) Header() http.Header { return m.header }

func (m *memResponse) WriteHeader(code int) {
	if !m.wrote {
		m.code, m.wrote = code, true
	}
}

func (m *memResponse) Write(p []byte) (int, error) {
	m.wrote = true
	return m.body.Write(p)
}

// regClient calls the registry API.
type regClient struct {
	base, token string
	hc          *http.Client
}

// regError is an error answer of the registry API.
type regError struct {
	Status  int
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *regError) Error() string {
	if e.Status == http.StatusUnauthorized {
		return fmt.Sprintf("%s (error %d): give a token with --token or $BIGFATHER_TOKEN", e.Message, e.Code)
	}
	return fmt.Sprintf("%s (error %d)", e.Message, e.Code)
}

// schemaBody is a schema sent to the registry.
type schemaBody struct {
	Schema     string             `json:"schema"`
	SchemaType string             `json:"schemaType,omitempty"`
	References []schema.Reference `json:"references,omitempty"`
}

// subjectVersion is a version as the registry answers it.
type subjectVersion struct {
	Subject    string             `json:"subject"`
	Version    int                `json:"version"`
	ID         int                `json:"id"`
	SchemaType string             `json:"schemaType"`
	References []schema.Reference `json:"references"`
	Schema     string             `json:"schema"`
}

// typ is the version's schema type (the API leaves AVRO out).
func (v subjectVersion) typ() string {
	if v.SchemaType == "" {
		return string(schema.Avro)
	}
	return v.SchemaType
}

// compatAnswer is a verbose compatibility check's answer.
type compatAnswer struct {
	IsCompatible bool     `json:"is_compatible"`
	Messages     []string `json:"messages"`
}

func (c *regClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", registry.ContentType)
	if body != nil {
		req.Header.Set("Content-Type", registry.ContentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &regError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Message == "" {
			return fmt.Errorf("%s %s%s: %s", method, c.base, path, resp.Status)
		}
		return e
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s%s: the answer is not the registry's JSON: %w", method, c.base, path, err)
	}
	return nil
}

func subjectPath(subject string) string { return "/subjects/" + url.PathEscape(subject) }

func versionPath(v int) string {
	if v == registry.Latest {
		return "latest"
	}
	return strconv.Itoa(v)
}

func (c *regClient) version(ctx context.Context, subject string, v int, deleted bool) (subjectVersion, error) {
	var out subjectVersion
	q := ""
	if deleted {
		q = "?deleted=true"
	}
	err := c.do(ctx, http.MethodGet, subjectPath(subject)+"/versions/"+versionPath(v)+q, nil, &out)
	return out, err
}

// level returns the subject's compatibility level and whether it is its own (else the global one).
func (c *regClient) level(ctx context.Context, subject string) (string, bool, error) {
	var out struct {
		Level string `json:"compatibilityLevel"`
	}
	err := c.do(ctx, http.MethodGet, "/config/"+url.PathEscape(subject), nil, &out)
	var re *regError
	if errors.As(err, &re) && re.Code == registry.CodeSubjectConfigNotSet {
		err = c.do(ctx, http.MethodGet, "/config", nil, &out)
		return out.Level, false, err
	}
	return out.Level, true, err
}

// subjectType is the type of the subject's latest version, or AVRO when it has none.
func (c *regClient) subjectType(ctx context.Context, subject string) (string, error) {
	v, err := c.version(ctx, subject, registry.Latest, false)
	var re *regError
	if errors.As(err, &re) && re.Code == registry.CodeSubjectNotFound {
		return string(schema.Avro), nil
	}
	if err != nil {
		return "", err
	}
	return v.typ(), nil
}

// levelText shows a level, marked when it is the global one.
func levelText(level string, own bool) string {
	if own {
		return level
	}
	return level + " (global)"
}

// subjectRow is a line of `schemas list`.
type subjectRow struct {
	Subject       string `json:"subject"`
	Version       int    `json:"version"`
	ID            int    `json:"id"`
	Type          string `json:"type"`
	Compatibility string `json:"compatibility"`
	// Global says the level is the global one (the subject has none of its own).
	Global  bool `json:"global"`
	Deleted bool `json:"deleted"`
}

func (sc *schemasCmd) list(ctx context.Context, c *regClient, prefix string, deleted bool) error {
	q := url.Values{}
	if prefix != "" {
		q.Set("subjectPrefix", prefix)
	}
	if deleted {
		q.Set("deleted", "true")
	}
	path := "/subjects"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var subjects []string
	if err := c.do(ctx, http.MethodGet, path, nil, &subjects); err != nil {
		return err
	}
	rows := []subjectRow{}
	for _, s := range subjects {
		v, err := c.version(ctx, s, registry.Latest, deleted)
		if err != nil {
			return fmt.Errorf("subject %q: %w", s, err)
		}
		level, own, err := c.level(ctx, s)
		if err != nil {
			return fmt.Errorf("subject %q: %w", s, err)
		}
		row := subjectRow{Subject: s, Version: v.Version, ID: v.ID, Type: v.typ(), Compatibility: level, Global: !own}
		if deleted {
			var live []int
			err := c.do(ctx, http.MethodGet, subjectPath(s)+"/versions", nil, &live)
			var re *regError
			switch {
			case errors.As(err, &re) && re.Code == registry.CodeSubjectNotFound:
				row.Deleted = true
			case err != nil:
				return fmt.Errorf("subject %q: %w", s, err)
			}
		}
		rows = append(rows, row)
	}
	if sc.format == "json" {
		return writeJSON(sc.stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(sc.stdout, "no subjects")
		return nil
	}
	tw := tabwriter.NewWriter(sc.stdout, 0, 4, 2, ' ', 0)
	head := "SUBJECT\tVERSION\tID\tTYPE\tCOMPATIBILITY"
	if deleted {
		head += "\tDELETED"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		line := fmt.Sprintf("%s\t%d\t%d\t%s\t%s", r.Subject, r.Version, r.ID, r.Type, levelText(r.Compatibility, !r.Global))
		if deleted {
			line += "\t" + map[bool]string{true: "yes", false: "no"}[r.Deleted]
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// shownVersion is what `schemas show --format json` prints.
type shownVersion struct {
	Subject       string             `json:"subject"`
	Version       int                `json:"version"`
	ID            int                `json:"id"`
	Type          string             `json:"type"`
	Compatibility string             `json:"compatibility"`
	Global        bool               `json:"global"`
	References    []schema.Reference `json:"references"`
	Schema        string             `json:"schema"`
}

func (sc *schemasCmd) show(ctx context.Context, c *regClient, subject string, version int) error {
	v, err := c.version(ctx, subject, version, false)
	if err != nil {
		return err
	}
	level, own, err := c.level(ctx, subject)
	if err != nil {
		return err
	}
	if sc.format == "json" {
		refs := v.References
		if refs == nil {
			refs = []schema.Reference{}
		}
		return writeJSON(sc.stdout, shownVersion{Subject: v.Subject, Version: v.Version, ID: v.ID, Type: v.typ(),
			Compatibility: level, Global: !own, References: refs, Schema: v.Schema})
	}
	w := sc.stdout
	fmt.Fprintf(w, "subject:        %s\n", v.Subject)
	fmt.Fprintf(w, "version:        %d\n", v.Version)
	fmt.Fprintf(w, "id:             %d\n", v.ID)
	fmt.Fprintf(w, "type:           %s\n", v.typ())
	fmt.Fprintf(w, "compatibility:  %s\n", levelText(level, own))
	if len(v.References) == 0 {
		fmt.Fprintln(w, "references:     none")
	} else {
		for i, r := range v.References {
			label := "references:"
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(w, "%-15s %s -> %s version %d\n", label, r.Name, r.Subject, r.Version)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, prettySchema(v.typ(), v.Schema))
	return nil
}

// prettySchema is a schema's text for reading and diffing: Avro and JSON Schema indented by two spaces (keys
// in their order), Protobuf as written.
func prettySchema(typ, text string) string {
	if typ != string(schema.Protobuf) {
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(strings.TrimSpace(text)), "", "  "); err == nil {
			return b.String()
		}
	}
	return strings.TrimRight(text, " \t\r\n")
}

// diffLine is a line of a diff: Op is " " (in both), "-" (only in the first) or "+" (only in the second).
type diffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// maxDiffCells bounds the table of the line diff; beyond it the differing middle shows as removed then added.
const maxDiffCells = 16 << 20

// lineDiff is the diff of two texts' lines along a longest common subsequence: common lines, the first's
// lines not in it (removed) and the second's (added), removals before additions where both occur.
func lineDiff(a, b []string) []diffLine {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []diffLine
	for _, l := range a[:pre] {
		out = append(out, diffLine{" ", l})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(ma), len(mb)
	if (n+1)*(m+1) > maxDiffCells {
		for _, l := range ma {
			out = append(out, diffLine{"-", l})
		}
		for _, l := range mb {
			out = append(out, diffLine{"+", l})
		}
	} else {
		// lcs[i][j] is the length of the longest common subsequence of ma[i:] and mb[j:].
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && ma[i] == mb[j]:
				out = append(out, diffLine{" ", ma[i]})
				i++
				j++
			case j == m || i < n && lcs[i+1][j] >= lcs[i][j+1]:
				out = append(out, diffLine{"-", ma[i]})
				i++
			default:
				out = append(out, diffLine{"+", mb[j]})
				j++
			}
		}
	}
	for _, l := range a[len(a)-suf:] {
		out = append(out, diffLine{" ", l})
	}
	return out
}

// verdict is a compatibility verdict between two schemas at a level.
type verdict struct {
	Compatibility string   `json:"compatibility"`
	Compatible    bool     `json:"compatible"`
	Messages      []string `json:"messages"`
}

// diffView is what `schemas diff --format json` prints.
type diffView struct {
	Subject string     `json:"subject"`
	From    versionRef `json:"from"`
	To      versionRef `json:"to"`
	Lines   []diffLine `json:"lines"`
	verdict
}

// versionRef names a version and its schema id.
type versionRef struct {
	Version int `json:"version"`
	ID      int `json:"id"`
}

func (sc *schemasCmd) diff(ctx context.Context, c *regClient, subject string, from, to int) error {
	a, err := c.version(ctx, subject, from, false)
	if err != nil {
		return err
	}
	b, err := c.version(ctx, subject, to, false)
	if err != nil {
		return err
	}
	level, _, err := c.level(ctx, subject)
	if err != nil {
		return err
	}
	// The later version is checked against the earlier at the subject's level, as registering it did.
	var ans compatAnswer
	if err := c.do(ctx, http.MethodPost, "/compatibility"+subjectPath(subject)+"/versions/"+strconv.Itoa(a.Version)+"?verbose=true",
		schemaBody{Schema: b.Schema, SchemaType: b.SchemaType, References: b.References}, &ans); err != nil {
		return err
	}
	v := diffView{Subject: subject, From: versionRef{a.Version, a.ID}, To: versionRef{b.Version, b.ID},
		Lines:   lineDiff(strings.Split(prettySchema(a.typ(), a.Schema), "\n"), strings.Split(prettySchema(b.typ(), b.Schema), "\n")),
		verdict: verdict{Compatibility: level, Compatible: ans.IsCompatible, Messages: nonNil(ans.Messages)}}
	if sc.format == "json" {
		return writeJSON(sc.stdout, v)
	}
	w := sc.stdout
	fmt.Fprintf(w, "--- %s version %d (id %d)\n", subject, a.Version, a.ID)
	fmt.Fprintf(w, "+++ %s version %d (id %d)\n", subject, b.Version, b.ID)
	for _, l := range v.Lines {
		fmt.Fprintf(w, "%s %s\n", l.Op, l.Text)
	}
	fmt.Fprintln(w)
	if v.Compatible {
		fmt.Fprintf(w, "%s: version %d is compatible with version %d\n", level, b.Version, a.Version)
		return nil
	}
	fmt.Fprintf(w, "%s: version %d is incompatible with version %d:\n", level, b.Version, a.Version)
	for _, m := range v.Messages {
		fmt.Fprintf(w, "  - %s\n", m)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// readSchemaFile reads a schema file (and, with refsPath, its references) into a request body. The type is typ
// when given, PROTOBUF for a .proto file, AVRO for .avsc, else left empty for the caller to decide.
func readSchemaFile(path, typ string, refsPath *string) (schemaBody, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return schemaBody{}, fmt.Errorf("reading the schema file: %w", err)
	}
	body := schemaBody{Schema: string(data), SchemaType: typ}
	if strings.TrimSpace(body.Schema) == "" {
		return body, usagef("schemas: the schema file %s is empty", path)
	}
	if body.SchemaType == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".proto":
			body.SchemaType = string(schema.Protobuf)
		case ".avsc":
			body.SchemaType = string(schema.Avro)
		}
	}
	if refsPath != nil && *refsPath != "" {
		data, err := os.ReadFile(*refsPath)
		if err != nil {
			return body, fmt.Errorf("reading the references file: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body.References); err != nil {
			return body, usagef("schemas: --references %s: want a JSON list of {\"name\", \"subject\", \"version\"}: %v", *refsPath, err)
		}
		for i, r := range body.References {
			if r.Name == "" || r.Subject == "" || r.Version < 1 {
				return body, usagef("schemas: --references %s: reference %d needs a name, a subject and a version from 1", *refsPath, i+1)
			}
		}
	}
	return body, nil
}

// errIncompatible is the failure of `schemas check` with a schema the subject does not take: exit 1, the
// messages already printed.
var errIncompatible = errors.New("schemas check: the schema is incompatible")

// checkView is what `schemas check --format json` prints.
type checkView struct {
	Subject string `json:"subject"`
	verdict
}

func (sc *schemasCmd) check(ctx context.Context, c *regClient, subject string, body schemaBody) error {
	level, own, err := c.level(ctx, subject)
	if err != nil {
		return err
	}
	var ans compatAnswer
	if err := c.do(ctx, http.MethodPost, "/compatibility"+subjectPath(subject)+"/versions?verbose=true", body, &ans); err != nil {
		return err
	}
	v := checkView{Subject: subject, verdict: verdict{Compatibility: level, Compatible: ans.IsCompatible, Messages: nonNil(ans.Messages)}}
	if sc.format == "json" {
		if err := writeJSON(sc.stdout, v); err != nil {
			return err
		}
	} else if v.Compatible {
		fmt.Fprintf(sc.stdout, "compatible with %s under %s\n", subject, levelText(level, own))
	} else {
		fmt.Fprintf(sc.stdout, "incompatible with %s under %s:\n", subject, levelText(level, own))
		for _, m := range v.Messages {
			fmt.Fprintf(sc.stdout, "  - %s\n", m)
		}
	}
	if !v.Compatible {
		return errIncompatible
	}
	return nil
}

// registered is what `schemas register --format json` prints.
type registered struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int    `json:"id"`
	// New says the schema was registered now; false, it already was a version of the subject.
	New bool `json:"new"`
}

func (sc *schemasCmd) register(ctx context.Context, c *regClient, subject string, body schemaBody) error {
	var v subjectVersion
	err := c.do(ctx, http.MethodPost, subjectPath(subject), body, &v)
	var re *regError
	isNew := errors.As(err, &re) && (re.Code == registry.CodeSubjectNotFound || re.Code == registry.CodeSchemaNotFound)
	if err != nil && !isNew {
		return err
	}
	if isNew {
		var id struct {
			ID int `json:"id"`
		}
		if err := c.do(ctx, http.MethodPost, subjectPath(subject)+"/versions", body, &id); err != nil {
			return err
		}
		if err := c.do(ctx, http.MethodPost, subjectPath(subject), body, &v); err != nil {
			return fmt.Errorf("registered as id %d, but looking up its version: %w", id.ID, err)
		}
	}
	out := registered{Subject: subject, Version: v.Version, ID: v.ID, New: isNew}
	if sc.format == "json" {
		return writeJSON(sc.stdout, out)
	}
	if isNew {
		fmt.Fprintf(sc.stdout, "registered %s version %d, id %d\n", subject, out.Version, out.ID)
	} else {
		fmt.Fprintf(sc.stdout, "already registered: %s version %d, id %d\n", subject, out.Version, out.ID)
	}
	return nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
