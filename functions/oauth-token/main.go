// Command oauth-token serves POST /oauth2/token (shared/auth).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/auth"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	_, log, cfg := awsedge.Boot()
	signer, err := awsedge.TokenSigner(cfg, awsedge.MustEnv("TOKEN_SIGNER"))
	if err != nil {
		awsedge.Fatal(log, "token signer", err)
	}
	t := &auth.TokenEndpoint{
		Clients: awsedge.Store(cfg),
		Signer:  signer,
		Stage:   awsedge.MustEnv("STAGE"),
		TTL:     awsedge.EnvSeconds("TOKEN_TTL_SECONDS", time.Hour),
		Now:     time.Now,
		Log:     log,
	}
	lambda.Start(apigw.Lambda(t.Handle, log))
}
