// Command authorizer is the REST API's REQUEST authorizer (shared/auth).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/auth"
	"github.com/portcommunity/cpu/shared/awsedge"
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
		Keys:        awsedge.Store(cfg),
		Stage:       stage,
		Log:         log,
		Now:         time.Now,
		KeyCacheTTL: time.Minute,
	}
	lambda.Start(a.Handle)
}
