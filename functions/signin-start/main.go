// Command signin-start serves POST /onboarding/v1/sign-in: e-mail and password, then a code by
// e-mail (shared/signin).
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
	s := &signin.Service{Store: awsedge.Store(cfg), Mail: awsedge.Mailer(cfg), ConsoleURL: awsedge.MustEnv("CONSOLE_URL"), Now: time.Now, Log: log}
	lambda.Start(apigw.Lambda(s.HandleStart, log))
}
