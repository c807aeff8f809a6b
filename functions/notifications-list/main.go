// Command notifications-list serves E7, the caller's notifications of the last 168 hours (shared/reads).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/reads"
)

func main() {
	_, log, cfg := awsedge.Boot()
	pins, err := awsedge.SecretBox(cfg)
	if err != nil {
		awsedge.Fatal(log, "channel secret key (it opens the pick-up PINs)", err)
	}
	lambda.Start(apigw.Lambda(reads.Notifications(awsedge.Store(cfg), time.Now, pins, log), log))
}
