// Command release-expiry queues the releases whose expiration has passed (shared/pipeline).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/pipeline"
)

func main() {
	_, log, cfg := awsedge.Boot()
	e := &pipeline.Expiry{
		Store:    awsedge.Store(cfg),
		Queue:    awsedge.Queue(cfg, "INGESTION_QUEUE_URL"),
		Now:      time.Now,
		Log:      log,
		Lookback: 7 * 24 * time.Hour,
	}
	lambda.Start(e.Handle)
}
