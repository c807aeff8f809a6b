package pipeline_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/openapi/openapitest"
)

// proxy builds the event API Gateway passes after the authorizer vouched for caller.
func proxy(method string, path map[string]string, query map[string]string, body []byte, caller string, roles []entity.Role, extRef string) events.APIGatewayProxyRequest {
	rs := make([]string, len(roles))
	for i, r := range roles {
		rs[i] = string(r)
	}
	h := map[string]string{"Content-Type": "application/json"}
	if extRef != "" {
		h["External-Reference-Id"] = extRef
	}
	return events.APIGatewayProxyRequest{
		HTTPMethod: method, PathParameters: path, QueryStringParameters: query, Headers: h, Body: string(body),
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "test", Authorizer: map[string]any{
			apigw.CtxEntityID: caller, apigw.CtxRoles: strings.Join(rs, ","),
		}},
	}
}

// invoke calls a handler as API Gateway's proxy integration does, at path, and checks the answer
// against the OpenAPI document as the end-to-end tests do: every answer these tests get is one the
// contract describes. The authorizer's work is already in the event; the request checked carries
// placeholder credentials, which the document only requires to be present.
func (h *harness) invoke(handler apigw.Handler, path string, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	h.t.Helper()
	return h.invokeChecked(handler, path, ev, openapitest.Default(h.t).Check)
}

// invokeLenient is invoke for a request the API accepts on purpose in a form the document does
// not spell (enum values in any case): only the answer is checked.
func (h *harness) invokeLenient(handler apigw.Handler, path string, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	h.t.Helper()
	return h.invokeChecked(handler, path, ev, openapitest.Default(h.t).CheckLenient)
}

func (h *harness) invokeChecked(handler apigw.Handler, path string, ev events.APIGatewayProxyRequest,
	check func(*http.Request, []byte, int, http.Header, []byte) error) (events.APIGatewayProxyResponse, error) {
	h.t.Helper()
	ev.Path = path
	resp, err := apigw.Lambda(handler, quiet)(context.Background(), ev)
	if err != nil {
		return resp, err
	}
	q := url.Values{}
	for k, v := range ev.QueryStringParameters {
		q.Set(k, v)
	}
	req := httptest.NewRequest(ev.HTTPMethod, path+"?"+q.Encode(), strings.NewReader(ev.Body))
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", "Bearer test")
	req.Header.Set("Ocp-Apim-Subscription-Key", "test-subscription-key")
	header := http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	if err := check(req, []byte(ev.Body), resp.StatusCode, header, []byte(resp.Body)); err != nil {
		h.t.Errorf("openapi: %s %s answered %d: %v\n%.600s", ev.HTTPMethod, path, resp.StatusCode, err, resp.Body)
	}
	return resp, nil
}
