// Command release-right-assign serves …/release-rights/assignment PUT: the holder assigns the pick-up (truck, barge or rail) and receives its PIN (shared/commands).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/commands"
	"github.com/portcommunity/cpu/shared/release"
)

func main() {
	_, log, cfg := awsedge.Boot()
	st := awsedge.Store(cfg)
	h := &commands.Assignments{
		Accept: &commands.Acceptor{Store: st, Queue: awsedge.Queue(cfg, "COMMAND_QUEUE_URL"), Now: time.Now, Log: log},
		Ports:  release.ParsePorts(awsedge.MustEnv("ALLOWED_PORTS")),
	}
	lambda.Start(apigw.Lambda(h.HandlePut, log))
}
