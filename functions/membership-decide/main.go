// Command membership-decide serves POST /onboarding/v1/memberships/{entityId}/decision: approve or reject (shared/onboarding).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	h, log := awsedge.OnboardingRegistration()
	lambda.Start(apigw.Lambda(h.HandleDecide, log))
}
