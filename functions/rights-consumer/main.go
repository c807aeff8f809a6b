// Command rights-consumer applies queued release-right actions (shared/pipeline).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/pipeline"
	"github.com/portcommunity/cpu/shared/store"
)

func main() {
	_, log, cfg := awsedge.Boot()
	c := &pipeline.Consumer{
		Store: store.New(awsedge.DynamoDB(cfg), awsedge.MustEnv("TABLE_NAME")),
		Now:   time.Now,
		Log:   log,
		NewID: pipeline.NewID,
	}
	lambda.Start(c.Handle)
}
