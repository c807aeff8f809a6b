// Command webhook-deliverer POSTs signed notifications to the channels' receivers
// (shared/delivery).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/delivery"
)

func main() {
	_, log, cfg := awsedge.Boot()
	st := awsedge.Store(cfg)
	box, err := awsedge.SecretBox(cfg)
	if err != nil {
		awsedge.Fatal(log, "channel secret key", err)
	}
	queue := awsedge.DeliveryQueue{FIFO: awsedge.Queue(cfg, "DELIVERY_QUEUE_URL")}
	d := &delivery.Deliverer{
		Channels: st, Notifications: st, Log: st,
		Later:         awsedge.RetryQueue{Client: awsedge.SQS(cfg), URL: awsedge.MustEnv("RETRY_QUEUE_URL")},
		Queue:         queue,
		Sender:        awsedge.Sender(box, st),
		Pins:          box,
		Timing:        awsedge.Timing(),
		RatePerSecond: awsedge.DeliveryRate(),
		Now:           time.Now,
		Logger:        log,
		Sleep:         delivery.SleepContext,
	}
	lambda.Start(d.Handle)
}
