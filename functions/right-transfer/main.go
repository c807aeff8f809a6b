// Command right-transfer serves E3, release-right actions (shared/pipeline).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/pipeline"
	"github.com/portcommunity/cpu/shared/release"
)

func main() {
	_, log, cfg := awsedge.Boot()
	h := &pipeline.Rights{
		IDs:   awsedge.Store(cfg),
		Queue: awsedge.Queue(cfg, "RIGHTS_QUEUE_URL"),
		Ports: release.ParsePorts(awsedge.MustEnv("ALLOWED_PORTS")),
		Now:   time.Now,
	}
	lambda.Start(apigw.Lambda(h.HandleOne, log))
}
