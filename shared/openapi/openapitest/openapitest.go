// Package openapitest holds tests to the OpenAPI document (shared/openapi): it checks real HTTP
// exchanges, request and answer, against the document with kin-openapi, and validates notification
// envelopes. Only tests import it, so kin-openapi never reaches a Lambda binary.
//
// The rules of an exchange:
//   - a path the document does not know must be answered 404, a method it does not know on a
//     known path 405 with Allow, both problem+json (the gateway's answers);
//   - the answer must be documented for its operation and status: content type, body schema and
//     the documented headers;
//   - a request the document calls invalid (missing credentials, a broken limit) must be refused
//     with 4xx: an API that accepts it disagrees with its document;
//   - every string the document marks as JSON content (contentMediaType application/json with a
//     contentSchema, as E7's message) must hold a JSON value that matches its contentSchema.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/portcommunity/cpu/shared/openapi"
)

// Validator checks exchanges against the served document (openapi.JSON).
type Validator struct {
	doc      *openapi3.T
	router   routers.Router
	schemaOp []openapi3.SchemaValidationOption
}

// Load reads and validates the served document, and builds its router. The router ignores the
// document's servers, so that any host (the local stack's random port) matches.
func Load() (*Validator, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.JSON)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is invalid: %w", err)
	}
	routed := *doc
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	return &Validator{
		doc: doc, router: router,
		// uuid is not one of kin-openapi's default formats; the API's GUIDs are RFC 9562 ones.
		schemaOp: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
		},
	}, nil
}

var (
	defaultOnce sync.Once
	defaultV    *Validator
	defaultErr  error
)

// Default is the package's one Validator (loading the document once per test binary).
func Default(tb testing.TB) *Validator {
	tb.Helper()
	defaultOnce.Do(func() { defaultV, defaultErr = Load() })
	if defaultErr != nil {
		tb.Fatal(defaultErr)
	}
	return defaultV
}

// Doc is the loaded document (read only).
func (v *Validator) Doc() *openapi3.T { return v.doc }

// Check validates one exchange: the request as sent (with its body) and the answer's status,
// headers and body. It returns nil when the document describes the exchange.
func (v *Validator) Check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	return v.check(req, reqBody, status, header, body, true)
}

// CheckLenient validates an exchange whose request the API accepts on purpose although the
// document spells it otherwise (an enum value in another case, a container number with spaces):
// the document gives the canonical forms, the API is lenient. The answer is still checked.
func (v *Validator) CheckLenient(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	return v.check(req, reqBody, status, header, body, false)
}

func (v *Validator) check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte, strictRequest bool) error {
	if strings.HasPrefix(req.URL.Path, "/_local/") {
		return nil // the local stack's own health check, not part of the API
	}
	ctx := context.Background()
	route, params, err := v.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		return v.gatewayAnswer(http.StatusNotFound, status, header, body)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if header.Get("Allow") == "" {
			return fmt.Errorf("405 without Allow")
		}
		return v.gatewayAnswer(http.StatusMethodNotAllowed, status, header, body)
	case err != nil:
		return fmt.Errorf("find route: %w", err)
	}

	sent := req.Clone(ctx)
	sent.Body = io.NopCloser(bytes.NewReader(reqBody))
	opts := &openapi3filter.Options{
		AuthenticationFunc:      credentialsPresent,
		MultiError:              true,
		IncludeResponseStatus:   true,
		SchemaValidationOptions: v.schemaOp,
	}
	opts.WithCustomSchemaErrorFunc(schemaError)
	in := &openapi3filter.RequestValidationInput{Request: sent, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)

	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("the answer is not as documented: %w", err)
	}
	if reqErr != nil && status < 400 && strictRequest {
		return fmt.Errorf("the API answered %d to a request its document calls invalid: %w", status, reqErr)
	}
	if status >= 200 && status < 300 && strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		if media := route.Operation.Responses.Status(status).Value.Content.Get("application/json"); media != nil && media.Schema != nil {
			var value any
			if err := json.Unmarshal(body, &value); err != nil {
				return fmt.Errorf("the body is not JSON: %w", err)
			}
			if err := v.embedded(media.Schema.Value, value, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// gatewayAnswer checks an answer the gateway gives itself for a route the document has not: the
// expected status and a problem document.
func (v *Validator) gatewayAnswer(want, status int, header http.Header, body []byte) error {
	if status != want {
		return fmt.Errorf("the document has no such route, so the gateway must answer %d, not %d", want, status)
	}
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("%d with Content-Type %q, want application/problem+json", status, ct)
	}
	return v.Schema("Problem", body)
}

// Schema validates a JSON document against one of the document's component schemas.
func (v *Validator) Schema(name string, raw []byte) error {
	ref := v.doc.Components.Schemas[name]
	if ref == nil {
		return fmt.Errorf("no schema %q in the document", name)
	}
	var value any
	if err := json.Unmarshal(raw, &value); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := ref.Value.VisitJSON(value, v.visitOpts()...); err != nil {
		return fmt.Errorf("does not match %s: %w", name, short(err))
	}
	return v.embedded(ref.Value, value, "")
}

// Message validates a notification's message (E7's message, a webhook's body) against the
// NotificationEnvelope schema.
func (v *Validator) Message(msg string) error {
	return v.Schema("NotificationEnvelope", []byte(msg))
}

func (v *Validator) visitOpts() []openapi3.SchemaValidationOption {
	return append([]openapi3.SchemaValidationOption{openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()}, v.schemaOp...)
}

// embedded validates the strings that hold JSON content (contentMediaType application/json and a
// contentSchema) against their contentSchema: JSON Schema treats both keywords as annotations, so
// kin-openapi does not look inside them. It follows properties, items and allOf; that reaches E7's
// message and whatever a later document nests the same way.
func (v *Validator) embedded(s *openapi3.Schema, value any, at string) error {
	if s == nil {
		return nil
	}
	if str, ok := value.(string); ok && s.ContentSchema != nil && s.ContentMediaType == "application/json" {
		var inner any
		if err := json.Unmarshal([]byte(str), &inner); err != nil {
			return fmt.Errorf("%s: not JSON content: %w", at, err)
		}
		if err := s.ContentSchema.Value.VisitJSON(inner, v.visitOpts()...); err != nil {
			return fmt.Errorf("%s: the JSON content does not match %s: %w", at, s.ContentSchema.Ref, short(err))
		}
		return v.embedded(s.ContentSchema.Value, inner, at+"(content)")
	}
	for _, sub := range s.AllOf {
		if err := v.embedded(sub.Value, value, at); err != nil {
			return err
		}
	}
	switch val := value.(type) {
	case map[string]any:
		for name, p := range s.Properties {
			if x, ok := val[name]; ok {
				if err := v.embedded(p.Value, x, at+"/"+name); err != nil {
					return err
				}
			}
		}
	case []any:
		if s.Items != nil {
			for i, x := range val {
				if err := v.embedded(s.Items.Value, x, fmt.Sprintf("%s/%d", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// credentialsPresent stands in for the gateway's checks: a scheme is satisfied when its credential
// is present. Whether it is valid is the API's business; the document only says what must be sent.
func credentialsPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	s := in.SecurityScheme
	switch {
	case s.Type == "http":
		scheme, cred, _ := strings.Cut(h.Get("Authorization"), " ")
		if strings.EqualFold(scheme, s.Scheme) && strings.TrimSpace(cred) != "" {
			return nil
		}
	case s.Type == "apiKey" && s.In == "header":
		if h.Get(s.Name) != "" {
			return nil
		}
	default:
		return fmt.Errorf("security scheme %q of type %s is not checked by openapitest", in.SecuritySchemeName, s.Type)
	}
	return in.NewError(nil)
}

// short turns schema errors into one line each (kin-openapi's own text prints the whole schema).
func short(err error) error {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		parts := make([]string, len(me))
		for i, e := range me {
			parts[i] = short(e).Error()
		}
		return errors.New(strings.Join(parts, "; "))
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return errors.New(schemaError(se))
	}
	return err
}

// schemaError keeps kin-openapi's schema errors to one line: where, and what.
func schemaError(err *openapi3.SchemaError) string {
	return "/" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
}

// Examples validates what kin-openapi's Validate leaves out: the examples of schemas (JSON
// Schema's examples keyword) and the JSON content inside every example (E7's message).
func (v *Validator) Examples() error {
	var errs []error
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.SchemaRef, at string)
	walk = func(s *openapi3.SchemaRef, at string) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		seen[s.Value] = true
		for i, ex := range s.Value.Examples {
			if err := s.Value.VisitJSON(ex, v.visitOpts()...); err != nil {
				errs = append(errs, fmt.Errorf("%s example %d: %w", at, i, short(err)))
			} else if err := v.embedded(s.Value, ex, at); err != nil {
				errs = append(errs, fmt.Errorf("%s example %d: %w", at, i, err))
			}
		}
		for name, p := range s.Value.Properties {
			walk(p, at+"/"+name)
		}
		walk(s.Value.Items, at+"/items")
		walk(s.Value.ContentSchema, at+"/contentSchema")
		for _, group := range []openapi3.SchemaRefs{s.Value.AllOf, s.Value.AnyOf, s.Value.OneOf} {
			for i, sub := range group {
				walk(sub, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	for name, s := range v.doc.Components.Schemas {
		walk(s, "#/components/schemas/"+name)
	}
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			var media []*openapi3.MediaType
			if op.RequestBody != nil {
				for _, m := range op.RequestBody.Value.Content {
					media = append(media, m)
				}
			}
			for _, r := range op.Responses.Map() {
				for _, m := range r.Value.Content {
					media = append(media, m)
				}
			}
			for _, m := range media {
				if m.Schema == nil {
					continue
				}
				for name, ex := range m.Examples {
					if err := v.embedded(m.Schema.Value, ex.Value.Value, ""); err != nil {
						errs = append(errs, fmt.Errorf("%s %s example %s: %w", method, path, name, err))
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}
