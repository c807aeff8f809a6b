// Command notifications serves E7, the caller's notifications (shared/notification).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/notification"
)

func main() {
	_, log, cfg := awsedge.Boot()
	st := awsedge.Store(cfg)
	lambda.Start(apigw.Lambda(notification.Handler(st, time.Now), log))
}
