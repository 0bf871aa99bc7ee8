package api

import (
	"encoding/json"
	"regexp"
	"strings"
)

var pathParam = regexp.MustCompile(`\{([a-zA-Z_]+)(\.\.\.)?\}`)

// OpenAPI returns the OpenAPI 3.0 document of the registered routes, as indented JSON: the file api/openapi.json
// in the repository holds it, and a test keeps the two equal.
func (a *API) OpenAPI(version string) []byte {
	paths := map[string]map[string]any{}
	for _, rt := range a.Routes() {
		p := pathParam.ReplaceAllString(Prefix+rt.Path, "{$1}")
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt),
			"x-role":      rt.Role.String(),
			"responses": map[string]any{
				"200": map[string]any{"description": "the result", "content": jsonContent("object")},
				"400": ref("the request is malformed; error.param names the parameter"),
				"401": ref("no valid user session or bearer token"),
				"403": ref("the caller's role is not enough, or a cross-origin or CSRF-less mutating request"),
				"404": ref("the object does not exist"),
			},
		}
		var params []any
		for _, prm := range rt.Params {
			typ := prm.Type
			if typ == "" {
				typ = "string"
			}
			params = append(params, map[string]any{"name": prm.Name, "in": prm.In, "required": prm.Required || prm.In == "path",
				"description": prm.Description, "schema": map[string]any{"type": typ}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Body != "" {
			op["requestBody"] = map[string]any{"required": true, "description": rt.Body, "content": jsonContent("object")}
		}
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = op
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Big Father API", "version": version,
			"description": "The JSON API the Big Father console uses, under " + Prefix + ". Errors are {\"error\": {\"code\", \"message\", \"param\"}}."},
		"paths": paths,
		"components": map[string]any{
			"schemas": map[string]any{"Error": map[string]any{"type": "object", "properties": map[string]any{
				"error": map[string]any{"type": "object", "properties": map[string]any{
					"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}, "param": map[string]any{"type": "string"},
				}},
			}}},
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "bigfather_session"},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}},
	}
	out, _ := json.MarshalIndent(doc, "", "  ")
	return append(out, '\n')
}

func jsonContent(typ string) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": typ}}}
}

func ref(desc string) map[string]any {
	return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
}

// operationID names a route: its method and path words, e.g. getPipelinesName.
func operationID(rt Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.FieldsFunc(rt.Path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '.' || r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
