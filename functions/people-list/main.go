// Command people-list serves GET /onboarding/v1/people: an admin's list of its company's people (shared/onboarding).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	h, log := awsedge.OnboardingPeople()
	lambda.Start(apigw.Lambda(h.HandleList, log))
}
