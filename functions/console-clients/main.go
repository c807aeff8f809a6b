// Command console-clients serves GET /onboarding/v1/clients: the company's API clients, never a
// secret (shared/onboarding).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/onboarding"
)

func main() {
	_, log, cfg := awsedge.Boot()
	sessions, err := awsedge.ConsoleSessions(context.Background(), cfg)
	if err != nil {
		awsedge.Fatal(log, "token verifier", err)
	}
	h := &onboarding.Integrations{Sessions: sessions, Credentials: awsedge.Store(cfg)}
	lambda.Start(apigw.Lambda(h.HandleClients, log))
}
