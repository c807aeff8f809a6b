// Command release-expiry queues an Expire command for every release whose expiration has passed
// (shared/commands).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/commands"
)

func main() {
	_, log, cfg := awsedge.Boot()
	e := &commands.Expiry{
		Store:    awsedge.Store(cfg),
		Queue:    awsedge.Queue(cfg, "COMMAND_QUEUE_URL"),
		Now:      time.Now,
		Log:      log,
		Lookback: 7 * 24 * time.Hour,
	}
	lambda.Start(e.Handle)
}
