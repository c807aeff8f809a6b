// Command subscription-decide serves POST /onboarding/v1/subscriptions/{api}/decisions/{entityId}: the asset manager's decision (shared/onboarding).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
)

func main() {
	h, log := awsedge.OnboardingSubscriptions()
	lambda.Start(apigw.Lambda(h.HandleDecide, log))
}
