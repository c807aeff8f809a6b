// Package onboarding is what support staff do for a new company (seed 002: "your client is manually
// created by the Support service"): register the entity and issue its client, subscription key and
// ingestion id, all or nothing, and register the keys' usage identifiers in the stage's usage plan.
package onboarding

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
)

// Store is the storage port (shared/store implements it).
type Store interface {
	Register(ctx context.Context, e entity.Entity, creds *identity.Issued) error
	Issue(ctx context.Context, c identity.Issued) error
}

// UsagePlan registers API keys with the gateway's usage plan. In AWS it is API Gateway; the local
// gateway counts every usage identifier the authorizer returns, so locally nothing needs
// registering.
type UsagePlan interface {
	// Register adds API keys with these values (usage identifiers, never subscription keys: see
	// identity.UsageIdentifier) and returns a way to take them back.
	Register(ctx context.Context, name string, values ...string) (undo func(context.Context) error, err error)
}

// NoUsagePlan is the local stack's plan.
type NoUsagePlan struct{}

// Register implements UsagePlan.
func (NoUsagePlan) Register(context.Context, string, ...string) (func(context.Context) error, error) {
	return func(context.Context) error { return nil }, nil
}

// Service onboards entities.
type Service struct {
	Store Store
	// Secrets hashes client secrets with the stage's client-secret key (derived from KMS for a
	// deployed stage, read from .local/stack.json for the local stack).
	Secrets     *identity.SecretHasher
	Plan        UsagePlan
	Environment string
	Now         func() time.Time
}

// Onboard registers a new entity with its first credentials. The usage-plan keys are registered
// first and taken back if the registration fails (a duplicate, say), so nothing is half written.
func (s Service) Onboard(ctx context.Context, e entity.Entity) (identity.Issued, error) {
	e.Normalize()
	if err := e.Validate(); err != nil {
		return identity.Issued{}, err
	}
	issued, err := s.newCredentials(e.NxtEntityID)
	if err != nil {
		return issued, err
	}
	return issued, s.withPlan(ctx, issued, func() error { return s.Store.Register(ctx, e, &issued) })
}

// Issue gives an existing entity another client, subscription key and ingestion id.
func (s Service) Issue(ctx context.Context, entityID string) (identity.Issued, error) {
	issued, err := s.newCredentials(entityID)
	if err != nil {
		return issued, err
	}
	return issued, s.withPlan(ctx, issued, func() error { return s.Store.Issue(ctx, issued) })
}

func (s Service) newCredentials(entityID string) (identity.Issued, error) {
	var out identity.Issued
	var err error
	now := s.Now()
	if out.Client, out.ClientSecret, err = identity.NewClient(s.Secrets, entityID, "", "", now); err != nil {
		return out, err
	}
	if out.Key, out.SubscriptionKey, err = identity.NewSubscriptionKey(entityID, catalog.SubscriptionAPI, s.Environment, "", now); err != nil {
		return out, err
	}
	out.Ingestion, err = identity.NewIngestionID(entityID, s.Environment, "", now)
	return out, err
}

func (s Service) withPlan(ctx context.Context, issued identity.Issued, write func() error) error {
	// What the authorizer will hand API Gateway for this key and for calls of the client without
	// a key: the subscription key itself never reaches API Gateway.
	undo, err := s.Plan.Register(ctx, issued.Client.EntityID+"-"+issued.Key.Prefix,
		identity.UsageIdentifier(issued.SubscriptionKey), identity.ClientUsageKey(issued.Client.ClientID))
	if err != nil {
		return fmt.Errorf("register keys in the usage plan (nothing was written): %w", err)
	}
	if err := write(); err != nil {
		if uerr := undo(context.WithoutCancel(ctx)); uerr != nil {
			return errors.Join(err, fmt.Errorf("and taking the usage-plan keys back failed; delete them by hand: %w", uerr))
		}
		return err
	}
	return nil
}
