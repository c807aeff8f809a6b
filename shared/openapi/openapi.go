// Package openapi holds the OpenAPI 3.1 document of the API: its source (openapi.yaml, the one to
// edit), the JSON form generated from it (openapi.json, embedded here), and the handler of
// GET /openapi.json. It links nothing heavier than the API edge: validating against the document is
// the job of openapitest, which only tests import.
package openapi

//go:generate go run ./internal/gendoc openapi.yaml openapi.json

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/portcommunity/cpu/shared/apigw"
)

// JSON is the document as served, generated from openapi.yaml.
//
//go:embed openapi.json
var JSON []byte

// CacheControl of the document: it changes only with a deployment, so clients and caches may keep
// it a few minutes.
const CacheControl = "public, max-age=300"

// Handler serves GET /openapi.json, without credentials.
func Handler(context.Context, *apigw.Request) (apigw.Response, error) {
	return apigw.Response{
		Status:  http.StatusOK,
		Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": CacheControl},
		Body:    JSON,
	}, nil
}
