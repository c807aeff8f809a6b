// Command openapi serves GET /openapi.json, the API's OpenAPI document (shared/openapi).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/openapi"
)

func main() {
	// No AWS clients: the document is embedded, so the cold start is the binary's alone.
	lambda.Start(apigw.Lambda(openapi.Handler, lambdacontext.NewLogger()))
}
