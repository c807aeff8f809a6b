// Command command-relay queues the commands of accepted calls that their call could not queue
// itself, from the table's stream (shared/commands).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/commands"
	"github.com/portcommunity/cpu/shared/store"
)

func main() {
	_, log, cfg := awsedge.Boot()
	r := &commands.Relay{Store: awsedge.Store(cfg), Queue: awsedge.Queue(cfg, "COMMAND_QUEUE_URL"), FromStream: store.AcceptanceFromStream, Now: time.Now, Log: log}
	lambda.Start(r.Handle)
}
