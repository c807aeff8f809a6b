// Command invitation-create serves POST /onboarding/v1/invitations: a community administrator's registration link (shared/onboarding).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	h, log := awsedge.OnboardingRegistration()
	lambda.Start(apigw.Lambda(h.HandleInvite, log))
}
