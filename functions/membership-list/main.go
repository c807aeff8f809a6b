// Command membership-list serves GET /onboarding/v1/memberships: the community administrator's queue (shared/onboarding).
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
	h := &onboarding.Registration{Store: awsedge.Store(cfg), Now: time.Now, Log: log}
	sessions, err := awsedge.ConsoleSessions(context.Background(), cfg)
	if err != nil {
		awsedge.Fatal(log, "token verifier", err)
	}
	h.Sessions = sessions
	lambda.Start(apigw.Lambda(h.HandleMemberships, log))
}
