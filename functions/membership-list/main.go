// Command membership-list serves GET /onboarding/v1/memberships: the community administrator's queue (shared/onboarding).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	h, log := awsedge.OnboardingRegistration()
	lambda.Start(apigw.Lambda(h.HandleMemberships, log))
}
