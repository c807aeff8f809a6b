// Command notification-stream is the table stream's notification consumer: outcomes become
// notifications (shared/notifier), new notifications become delivery jobs (shared/delivery).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/delivery"
	"github.com/portcommunity/cpu/shared/notifier"
	"github.com/portcommunity/cpu/shared/store"
)

func main() {
	_, log, cfg := awsedge.Boot()
	st := awsedge.Store(cfg)
	s := &notifier.Stream{
		Notifier: &notifier.Notifier{Store: st, Log: log},
		Dispatcher: &delivery.Dispatcher{
			Channels: st,
			Jobs:     awsedge.DeliveryQueue{FIFO: awsedge.Queue(cfg, "DELIVERY_QUEUE_URL")},
			Decode:   store.NotificationRefFromStream,
			Now:      time.Now,
			Logger:   log,
		},
	}
	lambda.Start(s.Handle)
}
