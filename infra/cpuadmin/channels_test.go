package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/gate"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
	"github.com/portcommunity/cpu/shared/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestChannelsShowTheirHealth: support sees an entity's channels with their status, failure
// streak and the last day's outcomes, and never a secret.
func TestChannelsShowTheirHealth(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.Backends().DynamoDB(), testenv.TableWithoutStream(t))
	now := time.Now().UTC()
	failing := now.Add(-2 * time.Hour)
	healthy := webhook.Channel{ID: "11111111-1111-4111-8111-111111111111", EntityID: "NXT200000001", Name: "ops", URL: "https://hooks.example.com/a",
		Enabled: true, Status: webhook.StatusActive, CreatedOn: now, Version: 1, SealedClientSecret: []byte("sealed-never-shown")}
	dead := webhook.Channel{ID: "22222222-2222-4222-8222-222222222222", EntityID: "NXT200000001", Name: "old", URL: "https://hooks.example.com/b",
		Status: webhook.StatusDisabled, DisabledReason: "the receiver answered 410 Gone", CreatedOn: now, Version: 2, FailingSince: &failing}
	for _, c := range []webhook.Channel{healthy, dead} {
		if err := st.CreateChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	ok, gone := 200, 410
	var as []webhook.Attempt
	for i := range 3 {
		as = append(as, webhook.Attempt{ChannelID: healthy.ID, WebhookID: "msg_" + string(rune('a'+i)), Attempt: 1, Time: now.Add(-time.Duration(i) * time.Minute), Status: &ok, Outcome: webhook.Delivered})
	}
	as = append(as, webhook.Attempt{ChannelID: dead.ID, WebhookID: "msg_z", Attempt: 1, Time: now.Add(-time.Minute), Status: &gone, Outcome: webhook.Failed},
		webhook.Attempt{ChannelID: dead.ID, WebhookID: "msg_y", Attempt: 3, Time: now.Add(-30 * time.Hour), Outcome: webhook.Retrying})
	if err := st.AppendAttempts(ctx, as); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := channels(ctx, st, "NXT200000001", now, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{healthy.ID, "ops", "Active", "3/0/0", dead.ID, "Disabled (the receiver answered 410 Gone)", "0/0/1", failing.Format(time.RFC3339)} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "sealed") {
		t.Errorf("a secret shown:\n%s", text)
	}
}

// TestContainerReport: support sees a container's lights, its release with the assignment (never
// the PIN's hash) and the gate's validations.
func TestContainerReport(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.Backends().DynamoDB(), testenv.TableWithoutStream(t))
	now := time.Now().UTC().Truncate(time.Second)
	const c = "CSQU3054383"
	in := release.Command{PublicReferenceID: "hold-1", Requester: "NXT200000009", Action: release.Action(release.InputCustomsHold),
		Request: release.Request{PortLoCode: "BEANR", EquipmentNumber: c, TerminalCode: "01700"},
		Input:   &release.InputArgs{Input: release.InputCustomsHold, EventAt: now.Add(-time.Hour), Reason: "scan"}}
	if err := st.Save(ctx, nil, release.ApplyInput(release.NewVisit("BEANR", c), nil, in, release.Resolved{}, now)); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordValidation(ctx, gate.Record{ID: "v1", PortLoCode: "BEANR", EquipmentNumber: c, At: now, By: "NXT200000003",
		PinGiven: true, Reasons: []string{"Release: no active release"}}, nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := containerReport(ctx, st, "BEANR", c, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Customs", "HOLD", "hold-1", "CustomsHold", "NXT200000003", "Release: no active release"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestCreatePerson: support makes a community administrator; the passphrase printed signs in.
func TestCreatePerson(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.Backends().DynamoDB(), testenv.TableWithoutStream(t))
	e := entity.Entity{NxtEntityID: "NXT200000001", Name: "Operator", VAT: "BE0403170008", Roles: []entity.Role{entity.ShippingAgent},
		Addresses: []entity.Address{{AddressTypeCode: "1", City: "Antwerpen", Country: "BE"}}}
	if err := st.Register(ctx, e, nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := createPerson(ctx, st, "Clara@Example.com", "Clara", "Community", e.NxtEntityID, "User", "CommunityAdmin", &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`passphrase: (\S+)`).FindStringSubmatch(out.String())
	p, err := st.PersonByEmail(ctx, "clara@example.com")
	if m == nil || err != nil || !p.HasPlatformRole("CommunityAdmin") || !people.VerifyPassword(m[1], p.PasswordHash) {
		t.Fatalf("%s %+v %v", out.String(), p, err)
	}
	if err := createPerson(ctx, st, "x@example.com", "X", "Y", "NXT299999999", "User", "", &out); err == nil {
		t.Fatal("a person of an unknown entity")
	}
}
