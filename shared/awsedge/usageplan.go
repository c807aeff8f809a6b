package awsedge

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/portcommunity/cpu/shared/onboarding"
)

// UsagePlan registers API keys in an API Gateway usage plan (onboarding.UsagePlan). The values are
// usage identifiers (identity.UsageIdentifier, identity.ClientUsageKey): API Gateway, where anyone
// with apigateway:GET can read API key values, never holds a subscription key.
type UsagePlan struct {
	Client *apigateway.Client
	PlanID string
}

// Register creates one API key per value and adds it to the plan; undo deletes them again.
func (u UsagePlan) Register(ctx context.Context, name string, values ...string) (func(context.Context) error, error) {
	var ids []string
	undo := func(ctx context.Context) error {
		var errs []error
		for _, id := range ids {
			_, err := u.Client.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: aws.String(id)})
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	for i, v := range values {
		key, err := u.Client.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{
			Name:    aws.String(name + "-" + string(rune('a'+i))),
			Value:   aws.String(v),
			Enabled: true,
		})
		if err != nil {
			return nil, errors.Join(err, undo(ctx))
		}
		ids = append(ids, aws.ToString(key.Id))
		if _, err := u.Client.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{
			UsagePlanId: aws.String(u.PlanID), KeyId: key.Id, KeyType: aws.String("API_KEY"),
		}); err != nil {
			return nil, errors.Join(err, undo(ctx))
		}
	}
	return undo, nil
}

// UsagePlanNamed finds the stage's usage plan by its name (the USAGE_PLAN setting); an empty name
// is the local stack's, which registers nothing.
func UsagePlanNamed(ctx context.Context, cfg aws.Config, name string) (onboarding.UsagePlan, error) {
	if name == "" {
		return onboarding.NoUsagePlan{}, nil
	}
	client := apigateway.NewFromConfig(cfg)
	p := apigateway.NewGetUsagePlansPaginator(client, &apigateway.GetUsagePlansInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, plan := range page.Items {
			if aws.ToString(plan.Name) == name {
				return UsagePlan{Client: client, PlanID: aws.ToString(plan.Id)}, nil
			}
		}
	}
	return nil, fmt.Errorf("no usage plan named %s", name)
}
