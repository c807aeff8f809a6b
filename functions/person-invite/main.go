// Command person-invite serves POST /onboarding/v1/people: an admin invites a user or admin (shared/onboarding).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	h, log := awsedge.OnboardingPeople()
	lambda.Start(apigw.Lambda(h.HandleInvite, log))
}
