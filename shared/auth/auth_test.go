package auth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
)

var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))

// memCreds is an in-memory store of clients, entities and keys.
type memCreds struct {
	clients     map[string]identity.Client
	entities    map[string]entity.Entity
	keys        map[string]identity.SubscriptionKey
	reads       int
	clientReads int
}

func (m *memCreds) Client(_ context.Context, id string) (identity.Client, error) {
	m.clientReads++
	c, ok := m.clients[id]
	if !ok {
		return c, identity.ErrUnknown
	}
	return c, nil
}

func (m *memCreds) Entity(_ context.Context, id string) (entity.Entity, error) {
	return m.entities[id], nil
}

func (m *memCreds) SubscriptionKey(_ context.Context, hash string) (identity.SubscriptionKey, error) {
	m.reads++
	k, ok := m.keys[hash]
	if !ok {
		return k, identity.ErrUnknown
	}
	return k, nil
}

func fixture(t *testing.T, name string) []byte {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "apigw", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// secrets is the client-secret hasher of the tests (a fresh key per run).
var secrets = func() *identity.SecretHasher {
	h, err := identity.GenerateSecretHasher()
	if err != nil {
		panic(err)
	}
	return h
}()

func setup(t *testing.T) (*memCreds, *identity.LocalSigner, string, string) {
	now := time.Now()
	c, secret, err := identity.NewClient(secrets, "NXT200000001", "local-client-1", "local-demo-secret-1-do-not-use", now)
	if err != nil {
		t.Fatal(err)
	}
	k, raw, _ := identity.NewSubscriptionKey("NXT200000001", "cpu", "staging", "", now)
	other, otherRaw, _ := identity.NewSubscriptionKey("NXT200000002", "cpu", "staging", "", now)
	prod, prodRaw, _ := identity.NewSubscriptionKey("NXT200000001", "cpu", "production", "", now)
	m := &memCreds{
		clients:  map[string]identity.Client{c.ClientID: c},
		entities: map[string]entity.Entity{"NXT200000001": {NxtEntityID: "NXT200000001", Roles: []entity.Role{entity.ShippingAgent}}},
		keys:     map[string]identity.SubscriptionKey{k.Hash: k, other.Hash: other, prod.Hash: prod},
	}
	_ = secret
	signer, _ := identity.GenerateLocalSigner()
	keysByName["other"], keysByName["production"] = otherRaw, prodRaw
	return m, signer, raw, c.ClientID
}

var keysByName = map[string]string{}

func TestTokenEndpointWithFixture(t *testing.T) {
	m, signer, _, _ := setup(t)
	fails := newMemFailures()
	te := &TokenEndpoint{Clients: m, Secrets: secrets, Failures: fails, Signer: signer, Stage: "staging", TTL: time.Hour, Now: time.Now, Log: quiet}
	h := lambda.NewHandler(apigw.Lambda(te.Handle, quiet))
	out, err := h.Invoke(context.Background(), fixture(t, "oauth-token.json"))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayProxyResponse
	json.Unmarshal(out, &resp)
	var body map[string]any
	json.Unmarshal([]byte(resp.Body), &body)
	if resp.StatusCode != 200 || resp.Headers["Cache-Control"] != "no-store" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Body)
	}
	caller, err := identity.NewVerifier(signer.Public(), "staging").Verify(body["access_token"].(string))
	if err != nil || caller.EntityID != "NXT200000001" || caller.Roles[0] != "ShippingAgent" {
		t.Fatalf("issued token: %+v %v", caller, err)
	}
	// A wrong secret is counted against the address API Gateway reports (requestContext.identity).
	wrong := strings.Replace(string(fixture(t, "oauth-token.json")), "local-demo-secret-1-do-not-use", "wrong-secret-0000000", 1)
	out, err = h.Invoke(context.Background(), []byte(wrong))
	if err != nil || !strings.Contains(string(out), `"statusCode":401`) {
		t.Fatalf("wrong secret: %s %v", out, err)
	}
	if rec := fails.records[[2]string{"local-client-1", "203.0.113.10"}]; rec.Count != 1 {
		t.Fatalf("failure not counted for the source address: %v", fails.records)
	}
	// A body that is not a form is refused before any lookup.
	_, err = te.Handle(context.Background(), &apigw.Request{Headers: map[string]string{"content-type": "application/json"}, Body: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "x-www-form-urlencoded") {
		t.Fatalf("json body: %v", err)
	}
}

func authorize(t *testing.T, a *Authorizer, headers map[string]string) (events.APIGatewayCustomAuthorizerResponse, error) {
	var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(fixture(t, "authorizer-request.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Headers = headers
	return a.Handle(context.Background(), ev)
}

func TestAuthorizer(t *testing.T) {
	m, signer, key, clientID := setup(t)
	a := &Authorizer{Verifier: identity.NewVerifier(signer.Public(), "staging"), Keys: m, Stage: "staging", Log: quiet, Now: time.Now, KeyCacheTTL: time.Minute}
	tok, _ := identity.IssueToken(context.Background(), signer, "staging", identity.Caller{ClientID: clientID, EntityID: "NXT200000001", Roles: []string{"ShippingAgent"}}, time.Now(), time.Hour)

	resp, err := authorize(t, a, map[string]string{"authorization": "Bearer " + tok, "ocp-apim-subscription-key": key})
	if err != nil {
		t.Fatal(err)
	}
	if resp.UsageIdentifierKey != identity.UsageIdentifier(key) || resp.Context[apigw.CtxEntityID] != "NXT200000001" || resp.Context[apigw.CtxRoles] != "ShippingAgent" {
		t.Fatalf("answer %+v", resp)
	}
	if resp.PolicyDocument.Statement[0].Effect != "Allow" || resp.PolicyDocument.Statement[0].Resource[0] != "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/staging/*/*" {
		t.Fatalf("policy %+v", resp.PolicyDocument)
	}
	// The second call is served from the key cache.
	reads := m.reads
	authorize(t, a, map[string]string{"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": key})
	if m.reads != reads {
		t.Error("known key read again within the cache TTL")
	}
	for name, h := range map[string]map[string]string{
		"no token":             {"Ocp-Apim-Subscription-Key": key},
		"basic auth":           {"Authorization": "Basic eDp5", "Ocp-Apim-Subscription-Key": key},
		"no key":               {"Authorization": "Bearer " + tok},
		"unknown key":          {"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": "unknown-key-unknown-key"},
		"key of another":       {"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": keysByName["other"]},
		"key of another stage": {"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": keysByName["production"]},
	} {
		if _, err := authorize(t, a, h); !errors.Is(err, ErrUnauthorized) || err.Error() != "Unauthorized" {
			t.Errorf("%s: %v", name, err)
		}
	}
}
