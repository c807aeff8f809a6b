// Command ingest serves E1, the commercial release ingestion (shared/pipeline).
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
	h := &pipeline.Ingest{
		IDs:   awsedge.Store(cfg),
		Queue: awsedge.Queue(cfg, "INGESTION_QUEUE_URL"),
		Ports: release.ParsePorts(awsedge.MustEnv("ALLOWED_PORTS")),
		Stage: awsedge.MustEnv("STAGE"),
		Now:   time.Now,
	}
	lambda.Start(apigw.Lambda(h.Handle, log))
}
