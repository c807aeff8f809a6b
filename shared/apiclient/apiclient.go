// Package apiclient is the Go client of the CPu API, generated from the OpenAPI document
// (shared/openapi/openapi.yaml) by oapi-codegen. Do not edit client.gen.go: change the document and
// run `make generate`; a test fails when the committed client is stale.
package apiclient

//go:generate go tool oapi-codegen -config oapi-codegen.yaml -o client.gen.go ../openapi/openapi.yaml
