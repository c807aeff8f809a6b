// Package openapi holds the OpenAPI 3.1 document of the API: its source (openapi.yaml, the one to
// edit) and the JSON form generated from it (openapi.json, embedded here). Validating against the
// document is the job of openapitest, which only tests import.
package openapi

//go:generate go run ./internal/gendoc openapi.yaml openapi.json

import _ "embed"

// JSON is the document as served, generated from openapi.yaml.
//
//go:embed openapi.json
var JSON []byte
