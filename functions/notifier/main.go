// Command notifier turns outcomes on the table's stream into notifications (shared/pipeline).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/pipeline"
)

func main() {
	_, log, cfg := awsedge.Boot()
	n := &pipeline.Notifier{Store: awsedge.Store(cfg), Log: log}
	lambda.Start(n.Handle)
}
