// Command ingest-consumer applies queued commercial release actions (shared/pipeline).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/pipeline"
)

func main() {
	_, log, cfg := awsedge.Boot()
	c := &pipeline.Consumer{
		Store: awsedge.Store(cfg),
		Now:   time.Now,
		Log:   log,
		NewID: pipeline.NewID,
	}
	lambda.Start(c.Handle)
}
