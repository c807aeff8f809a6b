// Command webhook-retrier holds retried deliveries until they are due (shared/delivery).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/delivery"
)

func main() {
	_, log, cfg := awsedge.Boot()
	r := &delivery.Retrier{
		Jobs:   awsedge.DeliveryQueue{FIFO: awsedge.Queue(cfg, "DELIVERY_QUEUE_URL")},
		Later:  awsedge.RetryQueue{Client: awsedge.SQS(cfg), URL: awsedge.MustEnv("RETRY_QUEUE_URL")},
		Now:    time.Now,
		Logger: log,
	}
	lambda.Start(r.Handle)
}
