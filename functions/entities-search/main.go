// Command entities-search serves E6, the company registry (shared/reads, shared/registry).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/reads"
)

func main() {
	_, log, cfg := awsedge.Boot()
	lambda.Start(apigw.Lambda(reads.Entities(awsedge.Store(cfg)), log))
}
