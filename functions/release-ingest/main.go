// Command release-ingest serves E1: the shipping agent's commercial release actions and the
// terminals' and authorities' inputs (shared/commands).
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
	h := &commands.Ingest{
		IDs:    st,
		Accept: &commands.Acceptor{Store: st, Queue: awsedge.Queue(cfg, "COMMAND_QUEUE_URL"), Now: time.Now, Log: log},
		Ports:  release.ParsePorts(awsedge.MustEnv("ALLOWED_PORTS")),
		Stage:  awsedge.MustEnv("STAGE"),
		Now:    time.Now,
	}
	lambda.Start(apigw.Lambda(h.Handle, log))
}
