// Command access-request-create serves POST /onboarding/v1/access-requests: ask a registered company's admins for an account (shared/onboarding).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	h, log := awsedge.OnboardingRegistration()
	lambda.Start(apigw.Lambda(h.HandleAccessRequest, log))
}
