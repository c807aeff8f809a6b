// Command notifier turns outcomes on the table's stream into notifications (shared/pipeline).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/pipeline"
	"github.com/portcommunity/cpu/shared/store"
)

func main() {
	_, log, cfg := awsedge.Boot()
	n := &pipeline.Notifier{Store: store.New(awsedge.DynamoDB(cfg), awsedge.MustEnv("TABLE_NAME")), Log: log}
	lambda.Start(n.Handle)
}
