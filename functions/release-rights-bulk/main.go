// Command release-rights-bulk serves E4: one action on 1 to 100 release rights (shared/commands).
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
	h := &commands.Rights{
		IDs:    st,
		Accept: &commands.Acceptor{Store: st, Queue: awsedge.Queue(cfg, "COMMAND_QUEUE_URL"), Now: time.Now, Log: log},
		Ports:  release.ParsePorts(awsedge.MustEnv("ALLOWED_PORTS")),
	}
	lambda.Start(apigw.Lambda(h.HandleBulk, log))
}
