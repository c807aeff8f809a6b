package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/marketplace"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/secretbox"
	"github.com/portcommunity/cpu/shared/store"
	"golang.org/x/sync/errgroup"
)

// SeedFile is the shape of events/local/seed.json (contract §8).
type SeedFile struct {
	Entities []SeedEntity `json:"entities"`
	People   []SeedPerson `json:"people"`
}

// SeedPerson is a console user with a demo password (local stacks only): the community
// administrator, the asset manager and an entity admin.
type SeedPerson struct {
	Email         string   `json:"email"`
	FirstName     string   `json:"firstName"`
	LastName      string   `json:"lastName"`
	Entity        string   `json:"entity"`
	Role          string   `json:"role"`
	PlatformRoles []string `json:"platformRoles"`
	Password      string   `json:"password"`
}

// SeedEntity is an entity with its demo credentials.
type SeedEntity struct {
	entity.Entity
	Credentials SeedCredentials `json:"credentials"`
}

// SeedCredentials are fixed demo credentials, for local stacks only.
type SeedCredentials struct {
	ClientID        string `json:"clientId"`
	ClientSecret    string `json:"clientSecret"`
	SubscriptionKey string `json:"subscriptionKey"`
	IngestionID     string `json:"ingestionId"`
}

// ReadSeed reads and validates a seed file.
func ReadSeed(path string) (SeedFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return SeedFile{}, err
	}
	var s SeedFile
	if err := json.Unmarshal(raw, &s); err != nil {
		return SeedFile{}, fmt.Errorf("%s: %w", path, err)
	}
	for i := range s.Entities {
		s.Entities[i].Normalize()
		if err := s.Entities[i].Validate(); err != nil {
			return SeedFile{}, fmt.Errorf("%s: entity %d (%s): %w", path, i, s.Entities[i].NxtEntityID, err)
		}
	}
	return s, nil
}

// Issue builds an entity's credentials through the same code the support tooling uses, the secret
// hashed with the stack's client-secret key.
func (c SeedCredentials) Issue(secrets *identity.SecretHasher, entityID, env string, now time.Time) (identity.Issued, error) {
	var out identity.Issued
	var err error
	if out.Client, out.ClientSecret, err = identity.NewClient(secrets, entityID, c.ClientID, c.ClientSecret, now); err != nil {
		return out, err
	}
	if out.Key, out.SubscriptionKey, err = identity.NewSubscriptionKey(entityID, catalog.SubscriptionAPI, env, c.SubscriptionKey, now); err != nil {
		return out, err
	}
	out.Ingestion, err = identity.NewIngestionID(entityID, env, c.IngestionID, now)
	return out, err
}

// seedSubscription makes an entity's approved subscription to the CPu API around its seed key.
func seedSubscription(ctx context.Context, st *store.Store, box secretbox.Box, entityID, env string, issued identity.Issued, now time.Time) error {
	sub := marketplace.Subscription{EntityID: entityID, API: catalog.SubscriptionAPI, Environment: marketplace.EnvironmentOf(env),
		TermsVersion: marketplace.APIs[0].TermsVersion, Status: marketplace.Approved, RequestedBy: "seed", CreatedAt: now, DecidedAt: &now}
	secondary, raw, err := identity.NewSubscriptionKey(entityID, catalog.SubscriptionAPI, env, "", now)
	if err != nil {
		return err
	}
	ps, err := box.Seal(ctx, []byte(issued.SubscriptionKey), sub.ID())
	if err != nil {
		return err
	}
	ss, err := box.Seal(ctx, []byte(raw), sub.ID())
	if err != nil {
		return err
	}
	sub.Keys = &marketplace.SealedKeys{Primary: ps, Secondary: ss, PrimaryHash: issued.Key.Hash, SecondaryHash: secondary.Hash,
		PrimaryPrefix: issued.Key.Prefix, SecondaryPrefix: secondary.Prefix}
	return st.SaveSubscription(ctx, sub, 0, []identity.SubscriptionKey{secondary}, nil)
}

// LoadSeed registers every entity of the seed with its credentials, a few at a time (each is one
// transaction).
//
// Each entity's seed key is the primary key of an approved subscription to the CPu API (the
// secondary is made here), sealed with box, so that the console shows and regenerates it like any
// other.
func LoadSeed(ctx context.Context, st *store.Store, seed SeedFile, env string, secrets *identity.SecretHasher, box secretbox.Box) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	now := time.Now()
	for _, se := range seed.Entities {
		g.Go(func() error {
			issued, err := se.Credentials.Issue(secrets, se.NxtEntityID, env, now)
			if err != nil {
				return fmt.Errorf("seed %s: %w", se.NxtEntityID, err)
			}
			if err := st.Register(gctx, se.Entity, &issued); err != nil {
				return err
			}
			return seedSubscription(gctx, st, box, se.NxtEntityID, env, issued, now)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, sp := range seed.People {
		hash, err := people.HashPassword(sp.Password)
		if err != nil {
			return err
		}
		p := people.Person{UserID: fmt.Sprintf("00000000-0000-4000-9000-%012d", i+1), Email: people.FoldEmail(sp.Email), FirstName: sp.FirstName,
			LastName: sp.LastName, EntityID: sp.Entity, Role: people.Role(sp.Role), Status: people.Active, Platform: sp.PlatformRoles,
			CreatedAt: now, PasswordHash: hash}
		if err := st.CreatePerson(ctx, p); err != nil {
			return fmt.Errorf("seed person %s: %w", sp.Email, err)
		}
	}
	return nil
}
