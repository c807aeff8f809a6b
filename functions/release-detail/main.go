// Command release-detail serves E5, an async read of release rights (shared/rights).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/rights"
)

func main() {
	_, log, cfg := awsedge.Boot()
	h := &rights.Handlers{
		Store: awsedge.Store(cfg),
		Ports: release.ParsePorts(awsedge.MustEnv("ALLOWED_PORTS")),
		Now:   time.Now,
	}
	lambda.Start(apigw.Lambda(h.HandleDetail, log))
}
