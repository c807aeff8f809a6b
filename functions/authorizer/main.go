// Command authorizer is the REST API's REQUEST authorizer (shared/auth).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/auth"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/store"
)

func main() {
	ctx, log, cfg := awsedge.Boot()
	stage := awsedge.MustEnv("STAGE")
	verifier, err := awsedge.TokenVerifier(ctx, cfg, awsedge.MustEnv("TOKEN_VERIFIER"), stage)
	if err != nil {
		awsedge.Fatal(log, "token verifier", err)
	}
	a := &auth.Authorizer{
		Verifier:    verifier,
		Keys:        store.New(awsedge.DynamoDB(cfg), awsedge.MustEnv("TABLE_NAME")),
		Stage:       stage,
		Log:         log,
		Now:         time.Now,
		KeyCacheTTL: time.Minute,
	}
	lambda.Start(a.Handle)
}
