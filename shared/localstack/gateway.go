package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/console"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/ratelimit"
)

// apiGatewayMaxBody is API Gateway's own payload limit; the functions enforce the contract's 1 MiB.
const apiGatewayMaxBody = 10 << 20

type route struct {
	fn       catalog.Function
	segments []string // "{name}" for parameters
	literals int
	invoker  Invoker
	bucket   *ratelimit.Bucket // the route's throttle, as API Gateway's method throttling; nil: none
}

// Gateway emulates the REST API in front of the functions: routing, method throttling, the REQUEST
// authorizer, the usage plan and the proxy integration, with the gateway responses of
// catalog.GatewayResponses.
type Gateway struct {
	routes     []route
	authorizer Invoker
	limiter    *ratelimit.Window
	stage      string
	log        *slog.Logger
	ready      atomic.Bool
	now        func() time.Time
	// mailbox, when set, is served at /_local/mail (the SES stand-in's messages).
	mailbox *Mailbox
}

// NewGateway builds the routes of every catalog function that has one.
func NewGateway(invokers map[string]Invoker, stage string, log *slog.Logger) *Gateway {
	g := &Gateway{stage: stage, log: log, limiter: ratelimit.NewWindow(catalog.Plan.Calls, catalog.Plan.Window), now: time.Now}
	for _, fn := range catalog.Functions() {
		if fn.Authorizer {
			g.authorizer = invokers[fn.Name]
		}
		if fn.Trigger.Route == nil {
			continue
		}
		r := route{fn: fn, segments: split(fn.Trigger.Route.Path), invoker: invokers[fn.Name]}
		if th := fn.Trigger.Route.Throttle; th != nil {
			r.bucket = ratelimit.NewBucket(th.RatePerSecond, th.Burst)
		}
		for _, s := range r.segments {
			if !strings.HasPrefix(s, "{") {
				r.literals++
			}
		}
		g.routes = append(g.routes, r)
	}
	// API Gateway prefers literal path parts over parameters.
	sort.SliceStable(g.routes, func(i, j int) bool { return g.routes[i].literals > g.routes[j].literals })
	return g
}

var consoleFiles = console.Handler("/console/")

// SetReady switches /_local/health to 200.
func (g *Gateway) SetReady() { g.ready.Store(true) }

func split(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

func (r route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(r.segments) {
		return nil, false
	}
	params := map[string]string{}
	for i, s := range r.segments {
		if strings.HasPrefix(s, "{") {
			if segs[i] == "" {
				return nil, false
			}
			params[strings.Trim(s, "{}")] = segs[i]
		} else if s != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	requestID := uuid.NewString()
	if req.URL.Path == "/_local/health" {
		if g.ready.Load() {
			writeJSON(w, http.StatusOK, nil, map[string]string{"status": "ok"})
		} else {
			writeJSON(w, http.StatusServiceUnavailable, nil, map[string]string{"status": "starting"})
		}
		return
	}
	if req.URL.Path == "/console" || strings.HasPrefix(req.URL.Path, "/console/") {
		consoleFiles.ServeHTTP(w, req) // the web console's static files, as CloudFront serves them in AWS
		return
	}
	if g.mailbox != nil && (req.URL.Path == "/_local/mail" || strings.HasPrefix(req.URL.Path, "/_local/mail/")) && req.Method == http.MethodGet {
		ServeMailbox(g.mailbox, w, req)
		return
	}
	segs := split(req.URL.Path)
	var hit *route
	var params map[string]string
	var allowed []string
	for i := range g.routes {
		p, ok := g.routes[i].match(segs)
		if !ok {
			continue
		}
		if strings.EqualFold(g.routes[i].fn.Trigger.Route.Method, req.Method) && hit == nil {
			hit, params = &g.routes[i], p
		}
		allowed = append(allowed, g.routes[i].fn.Trigger.Route.Method)
	}
	switch {
	case len(allowed) == 0:
		g.gatewayAnswer(w, "MISSING_AUTHENTICATION_TOKEN", requestID, nil)
		return
	case hit == nil:
		g.problem(w, problem.New(problem.KindMethod, "%s is not allowed here; allowed: %s", req.Method, strings.Join(allowed, ", ")), requestID, map[string]string{"Allow": strings.Join(allowed, ", ")})
		return
	}
	if hit.bucket != nil {
		if ok, wait := hit.bucket.Allow(g.now()); !ok {
			g.gatewayAnswer(w, "THROTTLED", requestID, map[string]string{"Retry-After": strconv.Itoa(int(wait.Seconds()))})
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, apiGatewayMaxBody+1))
	if err != nil {
		g.problem(w, problem.New(problem.KindBadRequest, "the body could not be read"), requestID, nil)
		return
	}
	if len(body) > apiGatewayMaxBody {
		g.gatewayAnswer(w, "REQUEST_TOO_LARGE", requestID, nil)
		return
	}
	resource := "/" + strings.Join(hit.segments, "/")
	ev := events.APIGatewayProxyRequest{
		Resource:                        resource,
		Path:                            req.URL.Path,
		HTTPMethod:                      req.Method,
		Headers:                         map[string]string{},
		MultiValueHeaders:               map[string][]string(req.Header.Clone()),
		QueryStringParameters:           map[string]string{},
		MultiValueQueryStringParameters: map[string][]string(req.URL.Query()),
		PathParameters:                  params,
		Body:                            string(body),
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:    requestID,
			Stage:        g.stage,
			ResourcePath: resource,
			HTTPMethod:   req.Method,
			Path:         "/" + g.stage + req.URL.Path,
			Identity:     events.APIGatewayRequestIdentity{SourceIP: sourceIP(req.RemoteAddr)},
		},
	}
	for k, vs := range req.Header {
		ev.Headers[k] = vs[len(vs)-1]
	}
	for k, vs := range req.URL.Query() {
		ev.QueryStringParameters[k] = vs[len(vs)-1]
	}
	ctx := req.Context()
	if hit.fn.Trigger.Route.Auth.Authorized() {
		answer, ok := g.authorize(ctx, w, ev, requestID)
		if !ok {
			return
		}
		ev.RequestContext.Authorizer = answer.Context
		ev.RequestContext.Authorizer["principalId"] = answer.PrincipalID
		ev.RequestContext.Identity.APIKey = answer.UsageIdentifierKey
		if allowedNow, wait := g.limiter.Allow(answer.UsageIdentifierKey, g.now()); !allowedNow {
			g.gatewayAnswer(w, "THROTTLED", requestID, map[string]string{"Retry-After": strconv.Itoa(int(wait.Seconds()))})
			return
		}
	}
	payload, _ := json.Marshal(ev)
	out, err := hit.invoker.Invoke(ctx, payload)
	if errors.Is(err, ErrThrottled) {
		// Lambda refused the invocation (reserved concurrency in use): API Gateway cannot map
		// that to anything but its 500 for a proxy integration.
		g.log.Warn("function throttled", "function", hit.fn.Name, "requestId", requestID)
		g.gatewayAnswer(w, "DEFAULT_5XX", requestID, nil)
		return
	}
	if err != nil {
		// API Gateway answers a failed integration with its DEFAULT_5XX gateway response (the
		// stack sets it to 500 problem+json).
		g.log.Error("function failed", "function", hit.fn.Name, "requestId", requestID, "error", err.Error())
		g.gatewayAnswer(w, "DEFAULT_5XX", requestID, nil)
		return
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		g.log.Error("malformed proxy response", "function", hit.fn.Name, "requestId", requestID)
		g.gatewayAnswer(w, "DEFAULT_5XX", requestID, nil)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(resp.StatusCode)
	_, _ = io.WriteString(w, resp.Body)
}

func (g *Gateway) authorize(ctx context.Context, w http.ResponseWriter, ev events.APIGatewayProxyRequest, requestID string) (events.APIGatewayCustomAuthorizerResponse, bool) {
	areq := events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:                            "REQUEST",
		MethodArn:                       "arn:aws:execute-api:eu-west-1:000000000000:local/" + g.stage + "/" + ev.HTTPMethod + ev.Resource,
		Resource:                        ev.Resource,
		Path:                            ev.Path,
		HTTPMethod:                      ev.HTTPMethod,
		Headers:                         ev.Headers,
		MultiValueHeaders:               ev.MultiValueHeaders,
		QueryStringParameters:           ev.QueryStringParameters,
		MultiValueQueryStringParameters: ev.MultiValueQueryStringParameters,
		PathParameters:                  ev.PathParameters,
		RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
			RequestID: requestID, Stage: g.stage, ResourcePath: ev.Resource, HTTPMethod: ev.HTTPMethod,
		},
	}
	payload, _ := json.Marshal(areq)
	out, err := g.authorizer.Invoke(ctx, payload)
	var fe *FunctionError
	switch {
	case errors.As(err, &fe) && fe.Message == "Unauthorized":
		g.gatewayAnswer(w, "UNAUTHORIZED", requestID, nil)
		return events.APIGatewayCustomAuthorizerResponse{}, false
	case err != nil:
		g.log.Error("authorizer failed", "requestId", requestID, "error", err.Error())
		g.gatewayAnswer(w, "DEFAULT_5XX", requestID, nil)
		return events.APIGatewayCustomAuthorizerResponse{}, false
	}
	var answer events.APIGatewayCustomAuthorizerResponse
	if err := json.Unmarshal(out, &answer); err != nil || !allows(answer.PolicyDocument) {
		g.gatewayAnswer(w, "ACCESS_DENIED", requestID, nil)
		return answer, false
	}
	if answer.Context == nil {
		answer.Context = map[string]any{}
	}
	if answer.UsageIdentifierKey == "" {
		// API Gateway refuses a call with no API key when the method requires one.
		g.gatewayAnswer(w, "INVALID_API_KEY", requestID, nil)
		return answer, false
	}
	return answer, true
}

// sourceIP is the caller's address without the port, as API Gateway reports it (IPv6 too).
func sourceIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

func allows(p events.APIGatewayCustomAuthorizerPolicy) bool {
	ok := false
	for _, s := range p.Statement {
		if strings.EqualFold(s.Effect, "Deny") {
			return false
		}
		if strings.EqualFold(s.Effect, "Allow") {
			ok = true
		}
	}
	return ok
}

func (g *Gateway) gatewayAnswer(w http.ResponseWriter, typ, requestID string, headers map[string]string) {
	gr := catalog.LookupGatewayResponse(typ)
	status, h, body := problem.RenderGateway(gr.Status, gr.Detail, requestID)
	for k, v := range gr.Headers {
		h[k] = v
	}
	for k, v := range headers {
		h[k] = v
	}
	h["X-Amzn-Requestid"] = requestID
	write(w, status, h, body)
}

func (g *Gateway) problem(w http.ResponseWriter, err error, requestID string, headers map[string]string) {
	status, h, body := problem.Render(err, requestID)
	for k, v := range headers {
		h[k] = v
	}
	h["X-Amzn-Requestid"] = requestID
	write(w, status, h, body)
}

func writeJSON(w http.ResponseWriter, status int, headers map[string]string, v any) {
	b, _ := json.Marshal(v)
	h := map[string]string{"Content-Type": "application/json"}
	for k, val := range headers {
		h[k] = val
	}
	write(w, status, h, b)
}

func write(w http.ResponseWriter, status int, headers map[string]string, body []byte) {
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
