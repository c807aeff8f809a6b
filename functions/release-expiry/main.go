// Command release-expiry queues the releases whose expiration has passed (shared/pipeline).
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
	e := &pipeline.Expiry{
		Store:    store.New(awsedge.DynamoDB(cfg), awsedge.MustEnv("TABLE_NAME")),
		Queue:    awsedge.FIFOQueue{Client: awsedge.SQS(cfg), URL: awsedge.MustEnv("INGESTION_QUEUE_URL")},
		Now:      time.Now,
		Log:      log,
		Lookback: 7 * 24 * time.Hour,
	}
	lambda.Start(e.Handle)
}
