// Command person-invite serves POST /onboarding/v1/people: an admin invites a user or admin (shared/onboarding).
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/onboarding"
)

func main() {
	_, log, cfg := awsedge.Boot()
	h := &onboarding.People{Store: awsedge.Store(cfg), Now: time.Now, Log: log}
	h.Mail, h.ConsoleURL = awsedge.Mailer(cfg), awsedge.MustEnv("CONSOLE_URL")
	sessions, err := awsedge.ConsoleSessions(context.Background(), cfg)
	if err != nil {
		awsedge.Fatal(log, "token verifier", err)
	}
	h.Sessions = sessions
	lambda.Start(apigw.Lambda(h.HandleInvite, log))
}
