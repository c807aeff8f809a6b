package onboarding_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/onboarding"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// recordingPlan remembers registered keys and what was taken back.
type recordingPlan struct {
	registered [][]string
	undone     int
	fail       bool
}

func (p *recordingPlan) Register(_ context.Context, _ string, values ...string) (func(context.Context) error, error) {
	if p.fail {
		return nil, errors.New("api gateway unavailable")
	}
	p.registered = append(p.registered, values)
	return func(context.Context) error { p.undone++; return nil }, nil
}

func company(id, name, vat string) entity.Entity {
	return entity.Entity{
		NxtEntityID: id, Name: name, VAT: vat, Roles: []entity.Role{entity.ReleaseParty},
		Addresses: []entity.Address{{AddressTypeCode: "1", City: "Gent", Country: "BE"}},
	}
}

func TestOnboardIssueAndDuplicates(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.Backends().DynamoDB(), testenv.Table(t))
	plan := &recordingPlan{}
	secrets, err := identity.GenerateSecretHasher()
	if err != nil {
		t.Fatal(err)
	}
	svc := onboarding.Service{Store: st, Secrets: secrets, Plan: plan, Environment: "staging", Now: time.Now}

	issued, err := svc.Onboard(ctx, company("NXT300000001", "Gent Forwarding", "BE0403170008"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Client(ctx, issued.Client.ClientID)
	if err != nil || !secrets.Check(&c, issued.ClientSecret) || !strings.HasPrefix(c.SecretHash, "hmac-sha256:v1:") {
		t.Fatalf("client not usable: %v", err)
	}
	// API Gateway gets the key's usage identifier, never the key.
	if len(plan.registered) != 1 || plan.registered[0][0] != identity.UsageIdentifier(issued.SubscriptionKey) || plan.registered[0][1] != identity.ClientUsageKey(issued.Client.ClientID) {
		t.Fatalf("usage plan keys: %v", plan.registered)
	}
	for _, v := range plan.registered[0] {
		if strings.Contains(v, issued.SubscriptionKey) {
			t.Fatalf("usage plan got the subscription key in clear: %v", plan.registered)
		}
	}

	// Same VAT: refused with a clear error, keys taken back, nothing written.
	_, err = svc.Onboard(ctx, company("NXT300000002", "Other Name", "BE0403170008"))
	var dup *store.ErrDuplicate
	if !errors.As(err, &dup) || dup.Field != "vat" || plan.undone != 1 {
		t.Fatalf("duplicate VAT: %v (undone %d)", err, plan.undone)
	}
	if _, err := st.Entity(ctx, "NXT300000002"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused entity was written: %v", err)
	}

	// Invalid input names the field and touches nothing.
	_, err = svc.Onboard(ctx, company("NXT3", "", "XX"))
	if pe := problem.As(err); pe.Kind != problem.KindValidation || len(pe.Fields["nxtEntityId"]) == 0 || len(pe.Fields["name"]) == 0 {
		t.Fatalf("invalid entity: %v", err)
	}

	// More credentials for a registered entity; none for an unknown one (keys taken back).
	if _, err := svc.Issue(ctx, "NXT300000001"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Issue(ctx, "NXT399999999"); err == nil || plan.undone != 2 {
		t.Fatalf("issue for unknown entity: %v (undone %d)", err, plan.undone)
	}
	// A usage plan that fails writes nothing.
	plan.fail = true
	if _, err := svc.Onboard(ctx, company("NXT300000003", "Third Company", "BE0403170701")); err == nil {
		t.Fatal("onboarded without usage plan keys")
	}
	if _, err := st.Entity(ctx, "NXT300000003"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("entity written although the usage plan failed: %v", err)
	}
}
