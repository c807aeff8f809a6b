// Command notification-writer turns the outcomes on the table's stream into notifications
// (shared/notifier).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/notifier"
)

func main() {
	_, log, cfg := awsedge.Boot()
	n := &notifier.Notifier{Store: awsedge.Store(cfg), Log: log}
	lambda.Start(n.Handle)
}
