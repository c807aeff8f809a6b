// Command webhook-dispatcher turns new notifications on the table's stream into delivery jobs
// (shared/delivery).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/delivery"
	"github.com/portcommunity/cpu/shared/store"
)

func main() {
	_, log, cfg := awsedge.Boot()
	d := &delivery.Dispatcher{
		Channels: awsedge.Store(cfg),
		Jobs:     awsedge.DeliveryQueue{FIFO: awsedge.Queue(cfg, "DELIVERY_QUEUE_URL")},
		Decode:   store.NotificationRefFromStream,
		Now:      time.Now,
		Logger:   log,
	}
	lambda.Start(d.Handle)
}
