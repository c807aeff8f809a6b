// Command release-rights-list serves E2, the caller's release rights, as a notification (shared/reads).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/reads"
	"github.com/portcommunity/cpu/shared/release"
)

func main() {
	_, log, cfg := awsedge.Boot()
	h := &reads.Handlers{
		Store: awsedge.Store(cfg),
		Ports: release.ParsePorts(awsedge.MustEnv("ALLOWED_PORTS")),
		Now:   time.Now,
	}
	lambda.Start(apigw.Lambda(h.HandleList, log))
}
