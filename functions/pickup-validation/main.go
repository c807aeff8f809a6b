// Command pickup-validation serves the terminal's gate validation (shared/gate): may the driver at
// the gate take the container?
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/gate"
	"github.com/portcommunity/cpu/shared/release"
)

func main() {
	_, log, cfg := awsedge.Boot()
	h := &gate.Handler{Store: awsedge.Store(cfg), Ports: release.ParsePorts(awsedge.MustEnv("ALLOWED_PORTS")), Now: time.Now}
	lambda.Start(apigw.Lambda(h.Handle, log))
}
