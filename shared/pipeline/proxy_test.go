package pipeline_test

import (
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
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
