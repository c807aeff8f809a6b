// Command command-consumer applies the queued commands to the table (shared/consumer).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/consumer"
)

func main() {
	_, log, cfg := awsedge.Boot()
	c := &consumer.Consumer{
		Store: awsedge.Store(cfg),
		Now:   time.Now,
		Log:   log,
		NewID: consumer.NewID,
	}
	lambda.Start(c.Handle)
}
