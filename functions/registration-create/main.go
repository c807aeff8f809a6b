// Command registration-create serves POST /onboarding/v1/registrations: a company registers from an invitation (shared/onboarding).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	h, log := awsedge.OnboardingRegistration()
	lambda.Start(apigw.Lambda(h.HandleRegister, log))
}
