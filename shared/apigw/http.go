// Package apigw is the edge between API Gateway's REST proxy events and the platform's handlers:
// it decodes the request, enforces the body limit, reads the caller the authorizer vouched for, and
// turns every typed error into problem+json in one place.
package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/problem"
)

// Caller is the entity the authorizer vouched for.
type Caller struct {
	EntityID string
	ClientID string
	Roles    []entity.Role
}

// HasAnyRole tells whether the caller holds at least one of roles (any CPu role when none given).
func (c Caller) HasAnyRole(roles ...entity.Role) bool {
	if len(roles) == 0 {
		return len(c.Roles) > 0
	}
	for _, want := range roles {
		for _, r := range c.Roles {
			if r == want {
				return true
			}
		}
	}
	return false
}

// Authorizer context keys (API Gateway passes them to the function as strings).
const (
	CtxEntityID = "entityId"
	CtxClientID = "clientId"
	CtxRoles    = "roles"
)

// Request is what a handler sees.
type Request struct {
	Method      string
	Path        string
	Resource    string
	Headers     map[string]string // keys lower-cased
	Query       map[string][]string
	PathParams  map[string]string
	Body        []byte
	Caller      *Caller // nil on public routes
	RequestID   string
	ExternalRef *string // External-Reference-Id, echoed as externalReferenceId
	// SourceIP is the caller's address as API Gateway saw it (requestContext.identity.sourceIp).
	SourceIP string
}

// Header returns a header value by case-insensitive name.
func (r *Request) Header(name string) string { return r.Headers[strings.ToLower(name)] }

// Response is what a handler answers.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// JSON makes a JSON response.
func JSON(status int, v any) (Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Response{}, problem.Wrap(err, "encode response")
	}
	return Response{Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: b}, nil
}

// Handler is a route's logic.
type Handler func(ctx context.Context, r *Request) (Response, error)

// Lambda adapts a handler to API Gateway's REST proxy integration. Every answer, errors included, is
// returned as (response, nil): a Lambda error would make API Gateway answer a bare 502.
func Lambda(h Handler, log *slog.Logger) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		req, err := decode(ev)
		var resp Response
		if err == nil {
			resp, err = h(ctx, req)
		}
		if err != nil {
			pe := problem.As(err)
			if pe.Kind == problem.KindInternal {
				log.ErrorContext(ctx, "request failed", "requestId", ev.RequestContext.RequestID, "path", ev.Path, "error", err.Error())
			}
			status, headers, body := problem.Render(pe, ev.RequestContext.RequestID)
			resp = Response{Status: status, Headers: headers, Body: body}
		}
		return events.APIGatewayProxyResponse{StatusCode: resp.Status, Headers: resp.Headers, Body: string(resp.Body)}, nil
	}
}

func decode(ev events.APIGatewayProxyRequest) (*Request, error) {
	req := &Request{
		Method:     ev.HTTPMethod,
		Path:       ev.Path,
		Resource:   ev.Resource,
		Headers:    map[string]string{},
		Query:      map[string][]string{},
		PathParams: ev.PathParameters,
		RequestID:  ev.RequestContext.RequestID,
		SourceIP:   ev.RequestContext.Identity.SourceIP,
	}
	for k, v := range ev.Headers {
		req.Headers[strings.ToLower(k)] = v
	}
	for k, vs := range ev.MultiValueHeaders {
		if len(vs) > 0 {
			req.Headers[strings.ToLower(k)] = vs[len(vs)-1]
		}
	}
	for k, v := range ev.QueryStringParameters {
		req.Query[k] = []string{v}
	}
	for k, vs := range ev.MultiValueQueryStringParameters {
		req.Query[k] = vs
	}
	if ref, ok := req.Headers["external-reference-id"]; ok {
		if err := checkExternalRef(ref); err != nil {
			return req, err
		}
		req.ExternalRef = &ref
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return req, problem.New(problem.KindBadRequest, "the body is not valid base64")
		}
	}
	if len(body) > catalog.MaxBodyBytes {
		return req, problem.New(problem.KindTooLarge, "the body must not be larger than %d bytes", catalog.MaxBodyBytes)
	}
	req.Body = body
	if a := ev.RequestContext.Authorizer; a != nil {
		c := &Caller{EntityID: str(a[CtxEntityID]), ClientID: str(a[CtxClientID])}
		for _, r := range strings.Split(str(a[CtxRoles]), ",") {
			if role, ok := entity.ParseRole(r); ok {
				c.Roles = append(c.Roles, role)
			}
		}
		if c.EntityID != "" {
			req.Caller = c
		}
	}
	return req, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// RequireCaller returns the caller holding one of roles (any role when none given), or a 401.
func RequireCaller(r *Request, roles ...entity.Role) (Caller, error) {
	if r.Caller == nil {
		return Caller{}, problem.New(problem.KindUnauthorized, "no authenticated caller")
	}
	if !r.Caller.HasAnyRole(roles...) {
		return Caller{}, problem.New(problem.KindUnauthorized, "the caller's entity lacks the role for this call")
	}
	return *r.Caller, nil
}

// MaxExternalRefChars bounds External-Reference-Id: it is echoed in the answer and in every
// notification the request causes, so it must be checked before anything is accepted.
const MaxExternalRefChars = 100

func checkExternalRef(ref string) error {
	switch {
	case !utf8.ValidString(ref):
		return problem.Field(ExternalRefHeader, "'%s' must be UTF-8 text.", ExternalRefHeader)
	case utf8.RuneCountInString(ref) > MaxExternalRefChars:
		return problem.Field(ExternalRefHeader, "'%s' must be at most %d characters; it has %d.", ExternalRefHeader, MaxExternalRefChars, utf8.RuneCountInString(ref))
	}
	for _, r := range ref {
		if unicode.IsControl(r) {
			return problem.Field(ExternalRefHeader, "'%s' must not contain control characters.", ExternalRefHeader)
		}
	}
	return nil
}

// ExternalRefHeader is the caller's own reference, echoed as externalReferenceId (contract §2).
const ExternalRefHeader = "External-Reference-Id"

// NextLink is the Link header (RFC 8288, rel="next") of a listing's next page: the query called,
// with tokenParam set to the position the page stopped at (base64url, opaque to clients). It is a
// reference of the query alone (RFC 3986 §4.2), so it keeps the path the client called, stage and
// custom domain included: API Gateway hands the function the path without the stage.
func NextLink(req *Request, tokenParam, position string) string {
	v := url.Values{}
	for k, vals := range req.Query {
		if !strings.EqualFold(k, tokenParam) && len(vals) > 0 {
			v.Set(k, vals[len(vals)-1])
		}
	}
	v.Set(tokenParam, base64.RawURLEncoding.EncodeToString([]byte(position)))
	return "<?" + v.Encode() + `>; rel="next"`
}

// DecodeStrict reads a JSON body into v: unknown fields, trailing values and malformed JSON are a
// 400 that says what is wrong.
func DecodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problem.New(problem.KindBadRequest, "the body is not a valid request: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return problem.New(problem.KindBadRequest, "the body holds more than one JSON value")
	}
	return nil
}
