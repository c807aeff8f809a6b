// Command channel-read serves one notification-channel endpoint (shared/channels, contract §9).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	api, log := awsedge.ChannelAPI()
	lambda.Start(apigw.Lambda(api.Get, log))
}
