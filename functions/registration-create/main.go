// Command registration-create serves POST /onboarding/v1/registrations: a company registers from an invitation (shared/onboarding).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/onboarding"
)

func main() {
	_, log, cfg := awsedge.Boot()
	h := &onboarding.Registration{Store: awsedge.Store(cfg), Now: time.Now, Log: log}
	h.Mail, h.ConsoleURL = awsedge.Mailer(cfg), awsedge.MustEnv("CONSOLE_URL")
	lambda.Start(apigw.Lambda(h.HandleRegister, log))
}
