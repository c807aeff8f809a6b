// Command console-channel-deliveries serves GET /onboarding/v1/channels/{channelId}/deliveries: a channel's delivery log, read in the console through the channel endpoints' own handler
// (shared/onboarding, shared/channels).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/onboarding"
)

func main() {
	api, log, cfg := awsedge.ChannelAPIAndConfig()
	sessions, err := awsedge.ConsoleSessions(context.Background(), cfg)
	if err != nil {
		awsedge.Fatal(log, "token verifier", err)
	}
	h := &onboarding.Integrations{Sessions: sessions, Channel: api.Deliveries}
	lambda.Start(apigw.Lambda(h.HandleChannel, log))
}
