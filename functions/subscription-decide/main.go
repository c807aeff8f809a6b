// Command subscription-decide serves POST /onboarding/v1/subscriptions/{api}/decisions/{entityId}: the asset manager's decision (shared/onboarding).
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/onboarding"
)

func main() {
	_, log, cfg := awsedge.Boot()
	ctx := context.Background()
	sessions, err := awsedge.ConsoleSessions(ctx, cfg)
	if err != nil {
		awsedge.Fatal(log, "token verifier", err)
	}
	h := &onboarding.Subscriptions{Store: awsedge.Store(cfg), Sessions: sessions, Stage: awsedge.MustEnv("STAGE"),
		ConsoleURL: os.Getenv("CONSOLE_URL"), Now: time.Now, Log: log}
	// What a function uses is what the catalog gives it: the secret box to those that seal or open
	// keys, the usage plan to those that make keys.
	if os.Getenv("CHANNEL_SECRET_KEY") != "" {
		if h.Box, err = awsedge.SecretBox(cfg); err != nil {
			awsedge.Fatal(log, "secret box (it seals the subscription keys)", err)
		}
	}
	if h.Plan, err = awsedge.UsagePlanNamed(ctx, cfg, os.Getenv("USAGE_PLAN")); err != nil {
		awsedge.Fatal(log, "usage plan", err)
	}
	if os.Getenv("MAIL_FROM") != "" {
		h.Mail = awsedge.Mailer(cfg)
	}
	lambda.Start(apigw.Lambda(h.HandleDecide, log))
}
