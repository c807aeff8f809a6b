// Command registry-search serves E6, the company registry (shared/registry).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/registry"
)

func main() {
	_, log, cfg := awsedge.Boot()
	idx := awsedge.Store(cfg)
	lambda.Start(apigw.Lambda(registry.Handler(idx), log))
}
