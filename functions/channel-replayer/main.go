// Command channel-replayer turns replay requests into delivery jobs (shared/delivery).
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
	r := &delivery.Replayer{
		Source: st, Channels: st,
		Jobs:    awsedge.DeliveryQueue{FIFO: awsedge.Queue(cfg, "DELIVERY_QUEUE_URL")},
		Replays: awsedge.ReplayQueue{Client: awsedge.SQS(cfg), URL: awsedge.MustEnv("REPLAY_QUEUE_URL")},
		Now:     time.Now,
		Logger:  log,
	}
	lambda.Start(r.Handle)
}
