package localstack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apiclient"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/openapi/openapitest"
	"github.com/portcommunity/cpu/shared/release"
)

// TestGeneratedClient: the client generated from the OpenAPI document speaks to the stack: a token,
// the registry (E6), a Release (E1) and its notification read back through E7 and decoded as the
// document's envelope, and the document itself. Its HTTP client checks every answer as well.
func TestGeneratedClient(t *testing.T) {
	api := startStack(t)
	ctx := context.Background()
	c, err := apiclient.NewClientWithResponses(api, apiclient.WithHTTPClient(openapitest.Client(t)))
	if err != nil {
		t.Fatal(err)
	}
	sa, term := seedFile.Entities[0], seedFile.Entities[2]
	tok, err := c.RequestTokenWithFormdataBodyWithResponse(ctx, apiclient.TokenRequest{
		GrantType: apiclient.ClientCredentials, ClientId: &sa.Credentials.ClientID, ClientSecret: &sa.Credentials.ClientSecret,
	})
	if err != nil || tok.JSON200 == nil {
		t.Fatalf("token: %v %d %s", err, tok.StatusCode(), tok.Body)
	}
	auth := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+tok.JSON200.AccessToken)
		req.Header.Set("Ocp-Apim-Subscription-Key", sa.Credentials.SubscriptionKey)
		return nil
	}

	name := "deurganck"
	found, err := c.SearchEntitiesWithResponse(ctx, &apiclient.SearchEntitiesParams{EntityName: &name}, auth)
	if err != nil || found.JSON200 == nil || found.JSON200.TotalRows != 1 || found.JSON200.PhoneBookItems[0].NxtEntityId != term.NxtEntityID {
		t.Fatalf("E6: %v %d %s", err, found.StatusCode(), found.Body)
	}

	container := release.WithCheckDigit("MSKU123456")
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	ref, key := "client-1", uuid.NewString()
	haulage := false
	rel := apiclient.ReleaseRequest{
		ActionType: apiclient.ReleaseRequestActionTypeRelease, ReleaseIdentification: ptr("CLIENT-1"), EquipmentNumber: container,
		BillOfLadingNumbers: []string{"BLCLIENT"}, PortLoCode: "BEANR", TerminalCode: &term.TerminalCodes[0], IsCarrierHaulage: &haulage,
		ReleaseDateTimeUtc: &at, Carrier: &apiclient.PartyRef{IdentificationType: apiclient.PartyRefIdentificationTypeNxtEntityId, IdentificationCode: sa.NxtEntityID},
	}
	ingestion := uuid.MustParse(sa.Credentials.IngestionID)
	var body apiclient.IngestionRequest
	if err := body.FromReleaseRequest(rel); err != nil {
		t.Fatal(err)
	}
	accepted, err := c.SubmitReleaseActionWithResponse(ctx, ingestion, &apiclient.SubmitReleaseActionParams{ExternalReferenceId: &ref, IdempotencyKey: &key}, body, auth)
	if err != nil || accepted.JSON202 == nil || accepted.JSON202.ExternalReferenceId == nil || *accepted.JSON202.ExternalReferenceId != ref {
		t.Fatalf("E1: %v %d %s", err, accepted.StatusCode(), accepted.Body)
	}

	var got []apiclient.Notification
	testenv.Eventually(30*time.Second, func() bool {
		r, err := c.ListNotificationsWithResponse(ctx, &apiclient.ListNotificationsParams{PublicReferenceId: &accepted.JSON202.PublicReferenceId}, auth)
		if err != nil {
			t.Fatal(err)
		}
		// Until the notifier has written ours: 405 (nothing yet), or 403 (only the terminal's so far).
		switch {
		case r.JSON200 != nil:
			got = *r.JSON200
		case r.ApplicationproblemJSON405 == nil && r.ApplicationproblemJSON403 == nil:
			t.Fatalf("E7: %d %s", r.StatusCode(), r.Body)
		}
		return len(got) > 0
	})
	if len(got) != 1 || got[0].EquipmentNumber != container || got[0].Event != apiclient.NotificationEventReleaseLightChanged {
		t.Fatalf("E7: %+v", got)
	}
	openapitest.CheckMessage(t, got[0].Message)
	var env apiclient.NotificationEnvelope
	if err := json.Unmarshal([]byte(got[0].Message), &env); err != nil {
		t.Fatal(err)
	}
	if env.Body.NewValue == nil || *env.Body.NewValue != apiclient.LightValueOK || env.ExternalReferenceId == nil || *env.ExternalReferenceId != ref {
		t.Errorf("envelope: %s", got[0].Message)
	}

	doc, err := c.GetOpenAPIDocumentWithResponse(ctx)
	if err != nil || doc.JSON200 == nil || doc.JSON200.Openapi != "3.1.0" {
		t.Fatalf("openapi.json: %v %d", err, doc.StatusCode())
	}
}

func ptr[T any](v T) *T { return &v }
