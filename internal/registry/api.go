package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/bigfather/bigfather/internal/registry/schema"
)

// The content types of Confluent's REST API: answers are ContentType; requests may use any of them (or none).
const (
	ContentType        = "application/vnd.schemaregistry.v1+json"
	contentTypeGeneric = "application/vnd.schemaregistry+json"
	contentTypeJSON    = "application/json"
)

// Error codes of API answers that no store error carries.
const (
	// CodeIncompatible answers a registration incompatible with the subject's versions (HTTP 409).
	CodeIncompatible = 409
	// CodeInvalidSchema answers a schema that does not parse, or whose references do not resolve.
	CodeInvalidSchema = 42201
	// CodeInvalidLevel answers an unknown compatibility level.
	CodeInvalidLevel = 42203
	// CodeInvalidMode answers an unknown mode.
	CodeInvalidMode = 42204
)

// Codes of answers about the request itself, which Confluent gives as the HTTP status.
const (
	codeBadRequest       = 400
	codeNotFound         = 404
	codeMethodNotAllowed = 405
	codeUnsupportedMedia = 415
)

// defaultMaxRequestBody bounds request bodies unless WithMaxRequestBytes says otherwise.
const defaultMaxRequestBody = 16 << 20

// Option configures the API handler.
type Option func(*apiConfig)

type apiConfig struct {
	logger  *slog.Logger
	maxBody int64
}

// WithLogger sets the logger of internal errors (50001 answers); the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *apiConfig) { c.logger = l } }

// WithMaxRequestBytes bounds request bodies (default 16 MiB); a larger body is refused.
func WithMaxRequestBytes(n int64) Option { return func(c *apiConfig) { c.maxBody = n } }

// Paths returns the root paths the API serves (each with everything under it), for mounting the handler on a
// server that serves other paths too.
func Paths() []string {
	return []string{"/subjects", "/schemas", "/config", "/compatibility", "/mode", "/contexts"}
}

// IsMutating reports whether a request to the API changes the registry: registering a schema, deleting,
// setting or deleting a compatibility level or mode. Reads, including the POST of a schema lookup and of a
// compatibility check, are not.
func IsMutating(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	case http.MethodPost:
		segs := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
		if segs[0] == "compatibility" || segs[0] == "subjects" && len(segs) == 2 {
			return false
		}
	}
	return true
}

// apiError is an answer's error: its HTTP status, Confluent error code and message.
type apiError struct {
	status  int
	code    int
	message string
}

func (e *apiError) Error() string { return e.message }

// rawText is an answer written as is (a schema's text), not as JSON.
type rawText string

type api struct {
	store *Store
	cfg   apiConfig
}

// NewHandler returns the Confluent-compatible REST API of the registry kept by store, serving the root paths
// listed by Paths. Answers are JSON of type ContentType; errors are exactly {"error_code":N,"message":"..."}.
func NewHandler(store *Store, opts ...Option) http.Handler {
	a := &api{store: store, cfg: apiConfig{logger: slog.Default(), maxBody: defaultMaxRequestBody}}
	for _, o := range opts {
		o(&a.cfg)
	}
	mux := http.NewServeMux()
	for _, rt := range []struct {
		pattern string
		fn      func(r *http.Request) (any, error)
	}{
		{"GET /subjects", a.listSubjects},
		{"POST /subjects/{subject}", a.lookup},
		{"DELETE /subjects/{subject}", a.deleteSubject},
		{"GET /subjects/{subject}/versions", a.listVersions},
		{"POST /subjects/{subject}/versions", a.register},
		{"GET /subjects/{subject}/versions/{version}", a.getVersion},
		{"DELETE /subjects/{subject}/versions/{version}", a.deleteVersion},
		{"GET /subjects/{subject}/versions/{version}/schema", a.getVersionText},
		{"GET /subjects/{subject}/versions/{version}/referencedby", a.referencedBy},
		{"GET /schemas", a.listSchemas},
		{"GET /schemas/types", a.types},
		{"GET /schemas/ids/{id}", a.schemaByID},
		{"GET /schemas/ids/{id}/schema", a.schemaTextByID},
		{"GET /schemas/ids/{id}/subjects", a.schemaSubjects},
		{"GET /schemas/ids/{id}/versions", a.schemaVersions},
		{"POST /compatibility/subjects/{subject}/versions/{version}", a.checkVersion},
		{"POST /compatibility/subjects/{subject}/versions", a.checkAll},
		{"GET /config", a.getConfig},
		{"PUT /config", a.putConfig},
		{"DELETE /config", a.deleteConfig},
		{"GET /config/{subject}", a.getConfig},
		{"PUT /config/{subject}", a.putConfig},
		{"DELETE /config/{subject}", a.deleteConfig},
		{"GET /mode", a.getMode},
		{"PUT /mode", a.putMode},
		{"DELETE /mode", a.deleteMode},
		{"GET /mode/{subject}", a.getMode},
		{"PUT /mode/{subject}", a.putMode},
		{"DELETE /mode/{subject}", a.deleteMode},
		{"GET /contexts", a.contexts},
	} {
		fn := rt.fn
		mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			out, err := a.serve(r, fn)
			a.write(w, r, out, err)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			// No route: the mux answers 404, 405 or a redirect; answer the error in the API's dialect.
			h.ServeHTTP(&routeErrorWriter{w: w, a: a, r: r}, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// routeErrorWriter turns the mux's plain-text 404 and 405 answers into API error bodies.
type routeErrorWriter struct {
	w       http.ResponseWriter
	a       *api
	r       *http.Request
	handled bool
}

func (rw *routeErrorWriter) Header() http.Header { return rw.w.Header() }

func (rw *routeErrorWriter) WriteHeader(status int) {
	if rw.handled {
		return
	}
	rw.handled = true
	switch status {
	case http.StatusNotFound:
		rw.a.write(rw.w, rw.r, nil, &apiError{status, codeNotFound, "HTTP 404 Not Found"})
	case http.StatusMethodNotAllowed:
		rw.w.Header().Del("Content-Type")
		rw.a.write(rw.w, rw.r, nil, &apiError{status, codeMethodNotAllowed, "HTTP 405 Method Not Allowed"})
	default:
		rw.w.WriteHeader(status)
		rw.handled = false
	}
}

func (rw *routeErrorWriter) Write(p []byte) (int, error) {
	if !rw.handled {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.handled {
		return len(p), nil // the mux's text is replaced by the API error
	}
	return rw.w.Write(p)
}

// serve checks the request's content type and runs fn.
func (a *api) serve(r *http.Request, fn func(r *http.Request) (any, error)) (any, error) {
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || mt != ContentType && mt != contentTypeGeneric && mt != contentTypeJSON {
				return nil, &apiError{http.StatusUnsupportedMediaType, codeUnsupportedMedia, "HTTP 415 Unsupported Media Type"}
			}
		}
	}
	return fn(r)
}

// write writes an answer or an error.
func (a *api) write(w http.ResponseWriter, r *http.Request, out any, err error) {
	status := http.StatusOK
	if err != nil {
		e := a.apiErr(r, err)
		status, out = e.status, struct {
			ErrorCode int    `json:"error_code"`
			Message   string `json:"message"`
		}{e.code, e.message}
	}
	w.Header().Set("Content-Type", ContentType)
	if text, ok := out.(rawText); ok {
		w.WriteHeader(status)
		io.WriteString(w, string(text))
		return
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		a.cfg.logger.Error("registry API: encoding an answer", "method", r.Method, "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"error_code":50001,"message":"Error in the backend data store"}` + "\n")
	}
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// apiErr maps an error to its answer: store errors to Confluent's status, code and message.
func (a *api) apiErr(r *http.Request, err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	var (
		nf  *NotFoundError
		sd  *SoftDeletedError
		sdf *SoftDeleteFirstError
		nc  *NotConfiguredError
		ref *ReferencedError
		np  *NotPermittedError
		idm *IDMismatchError
		iv  *InvalidVersionError
		irs *InvalidRuleSetError
		inc *IncompatibleError
	)
	switch {
	case errors.As(err, &nf):
		switch nf.What {
		case "version":
			return &apiError{http.StatusNotFound, CodeVersionNotFound, fmt.Sprintf("Version %d not found.", nf.Version)}
		case "schema":
			if nf.ID == 0 {
				return &apiError{http.StatusNotFound, CodeSchemaNotFound, "Schema not found"}
			}
			return &apiError{http.StatusNotFound, CodeSchemaNotFound, fmt.Sprintf("Schema %d not found", nf.ID)}
		}
		return &apiError{http.StatusNotFound, CodeSubjectNotFound, fmt.Sprintf("Subject '%s' not found.", nf.Subject)}
	case errors.As(err, &sd):
		if sd.Version == 0 {
			return &apiError{http.StatusNotFound, CodeSubjectSoftDeleted, fmt.Sprintf("Subject '%s' was soft deleted.Set permanent=true to delete permanently", sd.Subject)}
		}
		return &apiError{http.StatusNotFound, CodeVersionSoftDeleted, fmt.Sprintf("Subject '%s' Version %d was soft deleted.Set permanent=true to delete permanently", sd.Subject, sd.Version)}
	case errors.As(err, &sdf):
		if sdf.Version == 0 {
			return &apiError{http.StatusNotFound, CodeSubjectNotSoftDeleted, fmt.Sprintf("Subject '%s' was not deleted first before being permanently deleted", sdf.Subject)}
		}
		return &apiError{http.StatusNotFound, CodeVersionNotSoftDeleted, fmt.Sprintf("Subject '%s' Version %d was not deleted first before being permanently deleted", sdf.Subject, sdf.Version)}
	case errors.As(err, &nc):
		if nc.What == "mode" {
			return &apiError{http.StatusNotFound, CodeSubjectModeNotSet, fmt.Sprintf("Subject '%s' does not have subject-level mode configured", nc.Subject)}
		}
		return &apiError{http.StatusNotFound, CodeSubjectConfigNotSet, fmt.Sprintf("Subject '%s' does not have subject-level compatibility configured", nc.Subject)}
	case errors.As(err, &ref):
		return &apiError{http.StatusUnprocessableEntity, CodeReferenceExists, fmt.Sprintf("One or more references exist to the schema {subject=%s,version=%d}: schemas %s", ref.Subject, ref.Version, joinInts(ref.By))}
	case errors.As(err, &np):
		return &apiError{http.StatusUnprocessableEntity, CodeOperationNotPermitted, notPermittedMessage(np)}
	case errors.As(err, &idm):
		return &apiError{http.StatusUnprocessableEntity, CodeIDDoesNotMatch, idm.Reason}
	case errors.As(err, &iv):
		return invalidVersion(strconv.Itoa(iv.Version))
	case errors.As(err, &irs):
		return &apiError{http.StatusUnprocessableEntity, CodeInvalidRuleSet, irs.Error()}
	case errors.As(err, &inc):
		return &apiError{http.StatusConflict, CodeIncompatible, inc.Error()}
	}
	a.cfg.logger.Error("registry API: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return &apiError{http.StatusInternalServerError, CodeStoreError, "Error in the backend data store"}
}

func notPermittedMessage(e *NotPermittedError) string {
	switch {
	case e.Mode == ReadOnly && e.Subject != "":
		return fmt.Sprintf("Subject %s is in read-only mode", e.Subject)
	case e.Mode == ReadOnly:
		return "The registry is in read-only mode"
	}
	return strings.ToUpper(e.Reason[:1]) + e.Reason[1:]
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func invalidVersion(v string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, CodeInvalidVersion,
		fmt.Sprintf("The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", v)}
}

// parseVersion reads a version path parameter: a number from 1 to 2^31-1, "latest" or -1.
func parseVersion(s string) (int, error) {
	if s == "latest" {
		return Latest, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n != Latest && n < 1 {
		return 0, invalidVersion(s)
	}
	return int(n), nil
}

// flag reads a boolean query parameter; absent or unreadable is false, as in Confluent.
func flag(r *http.Request, name string) bool {
	b, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return b
}

// decode reads a JSON request body into v.
func (a *api) decode(r *http.Request, v any) error {
	body := http.MaxBytesReader(nil, r.Body, a.cfg.maxBody)
	if err := json.NewDecoder(body).Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes", tooBig.Limit)}
		}
		if errors.Is(err, io.EOF) {
			return &apiError{http.StatusBadRequest, codeBadRequest, "The request body is empty: a JSON object was expected"}
		}
		return &apiError{http.StatusBadRequest, codeBadRequest, fmt.Sprintf("The request body is not valid JSON: %v", err)}
	}
	return nil
}

// schemaRequest is the body of a registration, lookup or compatibility check.
type schemaRequest struct {
	Schema     string             `json:"schema"`
	SchemaType string             `json:"schemaType"`
	References []schema.Reference `json:"references"`
	// Metadata and RuleSet are the schema's data contract; absent, a registration carries over the latest
	// version's and a lookup matches any.
	Metadata *Metadata `json:"metadata"`
	RuleSet  *RuleSet  `json:"ruleSet"`
	// ID and Version are given only in IMPORT mode.
	ID      int `json:"id"`
	Version int `json:"version"`
}

// registration is the store's view of a parsed request under a subject.
func (req schemaRequest) registration(subject string, p schema.Parsed) Registration {
	return Registration{Subject: subject, Type: p.Type(), Text: req.Schema, Canonical: p.Canonical(), References: req.References,
		Metadata: req.Metadata, RuleSet: req.RuleSet, ID: req.ID, Version: req.Version}
}

// resolveError carries an error of the store met while resolving a reference.
type resolveError struct{ err error }

func (e *resolveError) Error() string { return e.err.Error() }
func (e *resolveError) Unwrap() error { return e.err }

// resolver resolves references to live versions of the store's subjects.
func (a *api) resolver(ctx context.Context) schema.Resolver {
	return func(ref schema.Reference) (string, []schema.Reference, error) {
		v, err := a.store.Version(ctx, ref.Subject, ref.Version, false)
		if err != nil {
			if CodeOf(err) == CodeStoreError {
				return "", nil, &resolveError{err}
			}
			return "", nil, fmt.Errorf("reference %q to version %d of subject %q: %w", ref.Name, ref.Version, ref.Subject, err)
		}
		return v.Text, v.References, nil
	}
}

// parse reads and parses the schema of a request body: 42201 when it does not parse.
func (a *api) parse(r *http.Request) (schemaRequest, schema.Parsed, error) {
	var req schemaRequest
	if err := a.decode(r, &req); err != nil {
		return req, nil, err
	}
	if req.Schema == "" {
		return req, nil, &apiError{http.StatusUnprocessableEntity, CodeInvalidSchema, "Empty schema"}
	}
	t, err := schema.ParseType(req.SchemaType)
	if err != nil {
		return req, nil, &apiError{http.StatusUnprocessableEntity, CodeInvalidSchema, fmt.Sprintf("Invalid schema type %s", req.SchemaType)}
	}
	p, err := schema.Parse(t, req.Schema, req.References, a.resolver(r.Context()))
	if err != nil {
		var re *resolveError
		if errors.As(err, &re) {
			return req, nil, re.err
		}
		return req, nil, &apiError{http.StatusUnprocessableEntity, CodeInvalidSchema, invalidSchemaMessage(err)}
	}
	return req, p, nil
}

// invalidSchemaMessage is the message of a 42201 answer for a schema that does not parse.
func invalidSchemaMessage(err error) string {
	return "Invalid schema: " + strings.TrimPrefix(err.Error(), schema.ErrInvalid.Error()+": ")
}

// parseStored parses a stored version, to check a candidate against it.
func (a *api) parseStored(ctx context.Context, v Version) (schema.Parsed, error) {
	p, err := schema.Parse(v.Type, v.Text, v.References, a.resolver(ctx))
	if err != nil {
		return nil, fmt.Errorf("parsing version %d of subject %q (schema %d): %w", v.Version, v.Subject, v.ID, err)
	}
	return p, nil
}

// versionAnswer is a subject version as the API answers it: schemaType only when not AVRO, references,
// metadata and ruleSet only when there are some.
type versionAnswer struct {
	Subject    string             `json:"subject"`
	Version    int                `json:"version"`
	ID         int                `json:"id"`
	SchemaType string             `json:"schemaType,omitempty"`
	References []schema.Reference `json:"references,omitempty"`
	Metadata   *Metadata          `json:"metadata,omitempty"`
	RuleSet    *RuleSet           `json:"ruleSet,omitempty"`
	Schema     string             `json:"schema"`
}

func answerVersion(v Version) versionAnswer {
	return versionAnswer{Subject: v.Subject, Version: v.Version, ID: v.ID, SchemaType: typeField(v.Type),
		References: v.References, Metadata: v.Metadata, RuleSet: v.RuleSet, Schema: v.Text}
}

// typeField is the schemaType of an answer: omitted for AVRO, as Confluent does.
func typeField(t schema.Type) string {
	if t == schema.Avro {
		return ""
	}
	return string(t)
}

func (a *api) listSubjects(r *http.Request) (any, error) {
	return a.store.Subjects(r.Context(), r.URL.Query().Get("subjectPrefix"), flag(r, "deleted"))
}

func (a *api) lookup(r *http.Request) (any, error) {
	subject := r.PathValue("subject")
	req, p, err := a.parse(r)
	if err != nil {
		return nil, err
	}
	v, err := a.store.Lookup(r.Context(), req.registration(subject, p), flag(r, "deleted"))
	if err != nil {
		return nil, err
	}
	return answerVersion(v), nil
}

func (a *api) deleteSubject(r *http.Request) (any, error) {
	return a.store.DeleteSubject(r.Context(), r.PathValue("subject"), flag(r, "permanent"))
}

func (a *api) listVersions(r *http.Request) (any, error) {
	return a.store.Versions(r.Context(), r.PathValue("subject"), flag(r, "deleted"))
}

func (a *api) version(r *http.Request) (Version, error) {
	n, err := parseVersion(r.PathValue("version"))
	if err != nil {
		return Version{}, err
	}
	return a.store.Version(r.Context(), r.PathValue("subject"), n, flag(r, "deleted"))
}

func (a *api) getVersion(r *http.Request) (any, error) {
	v, err := a.version(r)
	if err != nil {
		return nil, err
	}
	return answerVersion(v), nil
}

func (a *api) getVersionText(r *http.Request) (any, error) {
	v, err := a.version(r)
	if err != nil {
		return nil, err
	}
	return rawText(v.Text), nil
}

func (a *api) deleteVersion(r *http.Request) (any, error) {
	n, err := parseVersion(r.PathValue("version"))
	if err != nil {
		return nil, err
	}
	return a.store.DeleteVersion(r.Context(), r.PathValue("subject"), n, flag(r, "permanent"))
}

func (a *api) referencedBy(r *http.Request) (any, error) {
	n, err := parseVersion(r.PathValue("version"))
	if err != nil {
		return nil, err
	}
	return a.store.ReferencedBy(r.Context(), r.PathValue("subject"), n)
}

// register registers a schema: the same schema (canonical form, references, data contract) already under
// the subject keeps its id and version; a new one must be compatible with the subject's versions at its
// effective level (except in IMPORT mode, which copies another registry). The check runs inside the store's
// transaction, under the subject's lock, so it holds across every process sharing the database.
// normalize=true is accepted: schemas are always compared in canonical form.
func (a *api) register(r *http.Request) (any, error) {
	ctx, subject := r.Context(), r.PathValue("subject")
	mode, err := a.store.Mode(ctx, subject, true)
	if err != nil {
		return nil, err
	}
	if mode == ReadOnly {
		return nil, &NotPermittedError{Subject: subject, Mode: mode, Reason: "registering a schema"}
	}
	req, p, err := a.parse(r)
	if err != nil {
		return nil, err
	}
	reg := req.registration(subject, p)
	reg.Check = func(level schema.Level, previous []Version, resolve schema.Resolver) ([]string, error) {
		parsed := make([]schema.Parsed, 0, len(previous))
		for _, v := range previous {
			pv, err := schema.Parse(v.Type, v.Text, v.References, resolve)
			if err != nil {
				return nil, fmt.Errorf("parsing version %d of subject %q (schema %d): %w", v.Version, v.Subject, v.ID, err)
			}
			parsed = append(parsed, pv)
		}
		return schema.Check(level, p, parsed), nil
	}
	v, _, err := a.store.Register(ctx, reg)
	if err != nil {
		return nil, err
	}
	return map[string]int{"id": v.ID}, nil
}

// check returns the incompatibilities of candidate at level with one version of the subject (when only is
// not nil) or with the subject's live versions the level compares with; a subject without versions has none.
func (a *api) check(ctx context.Context, subject string, level schema.Level, candidate schema.Parsed, only *Version) ([]string, error) {
	if level == schema.None {
		return nil, nil
	}
	var versions []Version
	if only != nil {
		versions = []Version{*only}
	} else {
		nums, err := a.store.Versions(ctx, subject, false)
		if CodeOf(err) == CodeSubjectNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		switch level {
		case schema.BackwardTransitive, schema.ForwardTransitive, schema.FullTransitive:
		default:
			nums = nums[len(nums)-1:]
		}
		for _, n := range nums {
			v, err := a.store.Version(ctx, subject, n, false)
			if err != nil {
				return nil, err
			}
			versions = append(versions, v)
		}
	}
	previous := make([]schema.Parsed, 0, len(versions))
	for _, v := range versions {
		p, err := a.parseStored(ctx, v)
		if err != nil {
			return nil, err
		}
		previous = append(previous, p)
	}
	return schema.Check(level, candidate, previous), nil
}

func (a *api) checkVersion(r *http.Request) (any, error) {
	ctx, subject := r.Context(), r.PathValue("subject")
	n, err := parseVersion(r.PathValue("version"))
	if err != nil {
		return nil, err
	}
	v, err := a.store.Version(ctx, subject, n, false)
	if err != nil {
		return nil, err
	}
	_, p, err := a.parse(r)
	if err != nil {
		return nil, err
	}
	level, err := a.store.Config(ctx, subject, true)
	if err != nil {
		return nil, err
	}
	msgs, err := a.check(ctx, subject, level, p, &v)
	if err != nil {
		return nil, err
	}
	return a.writeCompat(r, msgs), nil
}

func (a *api) checkAll(r *http.Request) (any, error) {
	ctx, subject := r.Context(), r.PathValue("subject")
	_, p, err := a.parse(r)
	if err != nil {
		return nil, err
	}
	level, err := a.store.Config(ctx, subject, true)
	if err != nil {
		return nil, err
	}
	msgs, err := a.check(ctx, subject, level, p, nil)
	if err != nil {
		return nil, err
	}
	return a.writeCompat(r, msgs), nil
}

// writeCompat is the answer of a compatibility check: with verbose=true, the messages (an empty list when
// compatible).
func (a *api) writeCompat(r *http.Request, msgs []string) any {
	if !flag(r, "verbose") {
		return map[string]bool{"is_compatible": len(msgs) == 0}
	}
	if msgs == nil {
		msgs = []string{}
	}
	return struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages"`
	}{len(msgs) == 0, msgs}
}

func (a *api) listSchemas(r *http.Request) (any, error) {
	ctx := r.Context()
	deleted, latestOnly := flag(r, "deleted"), flag(r, "latestOnly")
	subjects, err := a.store.Subjects(ctx, r.URL.Query().Get("subjectPrefix"), deleted)
	if err != nil {
		return nil, err
	}
	out := []versionAnswer{}
	for _, s := range subjects {
		nums, err := a.store.Versions(ctx, s, deleted)
		if err != nil {
			return nil, err
		}
		if latestOnly {
			nums = nums[len(nums)-1:]
		}
		for _, n := range nums {
			v, err := a.store.Version(ctx, s, n, deleted)
			if err != nil {
				return nil, err
			}
			out = append(out, answerVersion(v))
		}
	}
	return out, nil
}

func (a *api) types(*http.Request) (any, error) { return schema.Types, nil }

func (a *api) schemaID(r *http.Request) (Schema, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 32)
	if err != nil || id < 1 {
		return Schema{}, &apiError{http.StatusNotFound, CodeSchemaNotFound, fmt.Sprintf("Schema %s not found", raw)}
	}
	return a.store.Schema(r.Context(), int(id))
}

// schemaByID answers a schema by id, with its data contract, and with fetchMaxId=true the highest id given
// out (maxId). The subject parameter names the subject whose context holds the id; with the default context
// only, every subject's does, so it changes nothing.
func (a *api) schemaByID(r *http.Request) (any, error) {
	s, err := a.schemaID(r)
	if err != nil {
		return nil, err
	}
	out := struct {
		SchemaType string             `json:"schemaType,omitempty"`
		References []schema.Reference `json:"references,omitempty"`
		Metadata   *Metadata          `json:"metadata,omitempty"`
		RuleSet    *RuleSet           `json:"ruleSet,omitempty"`
		Schema     string             `json:"schema"`
		MaxID      *int               `json:"maxId,omitempty"`
	}{SchemaType: typeField(s.Type), References: s.References, Metadata: s.Metadata, RuleSet: s.RuleSet, Schema: s.Text}
	if flag(r, "fetchMaxId") {
		id, err := a.store.MaxID(r.Context())
		if err != nil {
			return nil, err
		}
		out.MaxID = &id
	}
	return out, nil
}

func (a *api) schemaTextByID(r *http.Request) (any, error) {
	s, err := a.schemaID(r)
	if err != nil {
		return nil, err
	}
	return rawText(s.Text), nil
}

func (a *api) schemaVersions(r *http.Request) (any, error) {
	s, err := a.schemaID(r)
	if err != nil {
		return nil, err
	}
	return a.store.SubjectVersions(r.Context(), s.ID, flag(r, "deleted"))
}

func (a *api) schemaSubjects(r *http.Request) (any, error) {
	s, err := a.schemaID(r)
	if err != nil {
		return nil, err
	}
	svs, err := a.store.SubjectVersions(r.Context(), s.ID, flag(r, "deleted"))
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, sv := range svs {
		if len(out) == 0 || out[len(out)-1] != sv.Subject {
			out = append(out, sv.Subject)
		}
	}
	return out, nil
}

func (a *api) getConfig(r *http.Request) (any, error) {
	level, err := a.store.Config(r.Context(), r.PathValue("subject"), flag(r, "defaultToGlobal"))
	if err != nil {
		return nil, err
	}
	return map[string]schema.Level{"compatibilityLevel": level}, nil
}

func (a *api) putConfig(r *http.Request) (any, error) {
	var req struct {
		Compatibility string `json:"compatibility"`
	}
	if err := a.decode(r, &req); err != nil {
		return nil, err
	}
	level, err := schema.ParseLevel(strings.ToUpper(req.Compatibility))
	if err != nil {
		return nil, &apiError{http.StatusUnprocessableEntity, CodeInvalidLevel,
			"Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"}
	}
	if err := a.store.SetConfig(r.Context(), r.PathValue("subject"), level); err != nil {
		return nil, err
	}
	return map[string]schema.Level{"compatibility": level}, nil
}

func (a *api) deleteConfig(r *http.Request) (any, error) {
	level, err := a.store.DeleteConfig(r.Context(), r.PathValue("subject"))
	if err != nil {
		return nil, err
	}
	return map[string]schema.Level{"compatibilityLevel": level}, nil
}

func (a *api) getMode(r *http.Request) (any, error) {
	mode, err := a.store.Mode(r.Context(), r.PathValue("subject"), flag(r, "defaultToGlobal"))
	if err != nil {
		return nil, err
	}
	return map[string]Mode{"mode": mode}, nil
}

func (a *api) putMode(r *http.Request) (any, error) {
	var req struct {
		Mode string `json:"mode"`
	}
	if err := a.decode(r, &req); err != nil {
		return nil, err
	}
	mode, err := ParseMode(strings.ToUpper(req.Mode))
	if err != nil {
		return nil, &apiError{http.StatusUnprocessableEntity, CodeInvalidMode, "Invalid mode. Valid values are READWRITE, READONLY, IMPORT"}
	}
	if err := a.store.SetMode(r.Context(), r.PathValue("subject"), mode, flag(r, "force")); err != nil {
		return nil, err
	}
	return map[string]Mode{"mode": mode}, nil
}

func (a *api) deleteMode(r *http.Request) (any, error) {
	mode, err := a.store.DeleteMode(r.Context(), r.PathValue("subject"))
	if err != nil {
		return nil, err
	}
	return map[string]Mode{"mode": mode}, nil
}

func (a *api) contexts(*http.Request) (any, error) { return []string{"."}, nil }
