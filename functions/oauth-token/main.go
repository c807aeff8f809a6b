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
	ctx, log, cfg := awsedge.Boot()
	signer, err := awsedge.TokenSigner(cfg, awsedge.MustEnv("TOKEN_SIGNER"))
	if err != nil {
		awsedge.Fatal(log, "token signer", err)
	}
	// Once per cold start: in AWS one kms:GenerateMac, then every check is a local HMAC.
	secrets, err := awsedge.SecretHasher(ctx, cfg, awsedge.MustEnv("CLIENT_SECRET_KEY"))
	if err != nil {
		awsedge.Fatal(log, "client-secret key", err)
	}
	st := awsedge.Store(cfg)
	t := &auth.TokenEndpoint{
		Clients:  st,
		Secrets:  secrets,
		Failures: st,
		Signer:   signer,
		Stage:    awsedge.MustEnv("STAGE"),
		TTL:      awsedge.EnvSeconds("TOKEN_TTL_SECONDS", time.Hour),
		Now:      time.Now,
		Log:      log,
	}
	lambda.Start(apigw.Lambda(t.Handle, log))
}
