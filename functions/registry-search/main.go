// Command registry-search serves E6, the company registry (shared/registry).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/registry"
	"github.com/portcommunity/cpu/shared/store"
)

func main() {
	log := awsedge.Logger()
	cfg, err := awsedge.Config(context.Background())
	if err != nil {
		panic(err)
	}
	idx := store.New(awsedge.DynamoDB(cfg), awsedge.MustEnv("TABLE_NAME"))
	lambda.Start(apigw.Lambda(registry.Handler(idx), log))
}
