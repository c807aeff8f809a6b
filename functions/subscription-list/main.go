// Command subscription-list serves GET /onboarding/v1/subscriptions: the company's subscriptions or the asset manager's queue (shared/onboarding).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	h, log := awsedge.OnboardingSubscriptions()
	lambda.Start(apigw.Lambda(h.HandleList, log))
}
