// Command person-set-password serves POST /onboarding/v1/people/{userId}/password: an invited person sets its password (shared/onboarding).
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/onboarding"
)

func main() {
	_, log, cfg := awsedge.Boot()
	h := &onboarding.People{Store: awsedge.Store(cfg), Now: time.Now, Log: log}
	lambda.Start(apigw.Lambda(h.HandleSetPassword, log))
}
