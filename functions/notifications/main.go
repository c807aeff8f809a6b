// Command notifications serves E7, the caller's notifications (shared/notification).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/store"
)

func main() {
	_, log, cfg := awsedge.Boot()
	st := store.New(awsedge.DynamoDB(cfg), awsedge.MustEnv("TABLE_NAME"))
	lambda.Start(apigw.Lambda(notification.Handler(st, time.Now), log))
}
