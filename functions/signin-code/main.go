// Command signin-code serves POST /onboarding/v1/sign-in/{challengeId}: the e-mailed code answers a
// console session token (shared/signin).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/signin"
)

func main() {
	_, log, cfg := awsedge.Boot()
	signer, err := awsedge.TokenSigner(cfg, awsedge.MustEnv("TOKEN_SIGNER"))
	if err != nil {
		awsedge.Fatal(log, "token signer", err)
	}
	s := &signin.Service{Store: awsedge.Store(cfg), Signer: signer, Stage: awsedge.MustEnv("STAGE"), Now: time.Now, Log: log}
	lambda.Start(apigw.Lambda(s.HandleCode, log))
}
