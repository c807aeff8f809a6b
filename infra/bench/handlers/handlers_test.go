// Package handlers holds the benchmarks of the functions' own cost per request (storage and queues
// in memory), beside a bare aws-lambda-go echo handler measured in the same run: E6, E1, the token
// endpoint and the authorizer.
package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/auth"
	"github.com/portcommunity/cpu/shared/commands"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/reads"
	"github.com/portcommunity/cpu/shared/registry"
	"github.com/portcommunity/cpu/shared/release"
)

// benchEvent is an E6 call as API Gateway hands it to the function.
func benchEvent(b *testing.B) []byte {
	ev := events.APIGatewayProxyRequest{
		Resource: "/certified-pickup/v1/entities", Path: "/certified-pickup/v1/entities", HTTPMethod: "GET",
		Headers:                         map[string]string{"Authorization": "Bearer x", "Ocp-Apim-Subscription-Key": "k", "External-Reference-Id": "ref"},
		QueryStringParameters:           map[string]string{"entityName": "shipping 12", "pageSize": "25"},
		MultiValueQueryStringParameters: map[string][]string{"entityName": {"shipping 12"}, "pageSize": {"25"}},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r", Authorizer: map[string]any{
			apigw.CtxEntityID: "NXT200000001", apigw.CtxClientID: "c", apigw.CtxRoles: "ShippingAgent",
		}},
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkEchoHandler is the baseline: a bare aws-lambda-go handler that answers the proxy event.
func BenchmarkEchoHandler(b *testing.B) {
	h := lambda.NewHandler(func(_ context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: ev.Body}, nil
	})
	payload := benchEvent(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegistryHandler is the registry function's own cost per request (storage excluded: the
// index is in memory with 1,000 entities, 100 of them matching the name).
func BenchmarkRegistryHandler(b *testing.B) {
	var idx []entity.Entity
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("Forwarder %04d Logistics", i)
		if i%10 == 0 {
			name = fmt.Sprintf("Shipping %04d Agency", i)
		}
		idx = append(idx, entity.Entity{NxtEntityID: fmt.Sprintf("NXT2%08d", i), Name: name, VAT: fmt.Sprintf("BE%010d", i),
			Addresses: []entity.Address{{AddressTypeCode: "1", City: "Antwerpen", Country: "BE"}}})
	}
	h := lambda.NewHandler(apigw.Lambda(reads.Entities(newIndexedMem(idx)), slog.New(slog.NewJSONHandler(io.Discard, nil))))
	payload := benchEvent(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
}

// indexedMem precomputes the gram postings, as the table does, so the benchmark measures the
// function and not the fake.
type indexedMem struct {
	byID  map[string]entity.Entity
	grams map[string][]registry.Summary
}

func newIndexedMem(es []entity.Entity) indexedMem {
	m := indexedMem{byID: map[string]entity.Entity{}, grams: map[string][]registry.Summary{}}
	for _, e := range es {
		m.byID[e.NxtEntityID] = e
		for _, g := range entity.NameGrams(e.Name) {
			m.grams[g] = append(m.grams[g], registry.SummaryOf(e))
		}
	}
	return m
}

func (m indexedMem) ByIdentifier(context.Context, registry.Identifier, string) ([]registry.Summary, error) {
	return nil, nil
}

func (m indexedMem) ByNameGram(_ context.Context, gram string) ([]registry.Summary, error) {
	return m.grams[gram], nil
}

func (m indexedMem) Profiles(_ context.Context, ids []string) ([]entity.Entity, error) {
	out := make([]entity.Entity, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.byID[id])
	}
	return out, nil
}

// memIdentities and nullQueue stand in for DynamoDB and SQS: the benchmark measures E1 itself.
type memIdentities struct{ e entity.Entity }

func (m memIdentities) IngestionID(context.Context, string) (identity.IngestionID, error) {
	return identity.IngestionID{ID: "1d6e0000-0000-4000-8000-000000000001", EntityID: m.e.NxtEntityID, Environment: "bench"}, nil
}
func (m memIdentities) Entity(context.Context, string) (entity.Entity, error) { return m.e, nil }

type nullQueue struct{}

func (nullQueue) Send(context.Context, ...commands.Message) error { return nil }

// nullAcceptances accepts every call: the benchmark measures E1, not DynamoDB.
type nullAcceptances struct{}

func (nullAcceptances) Accept(_ context.Context, a release.Acceptance, _ time.Time) (release.Acceptance, bool, error) {
	return a, true, nil
}
func (nullAcceptances) Queued(context.Context, release.Acceptance) (bool, error) { return false, nil }
func (nullAcceptances) MarkQueued(context.Context, release.Acceptance) error     { return nil }

// BenchmarkIngestHandler is E1's own cost per request: a full Release body decoded, validated,
// checked against the caller and queued.
func BenchmarkIngestHandler(b *testing.B) {
	in := &commands.Ingest{
		IDs:    memIdentities{entity.Entity{NxtEntityID: "NXT200000001", VAT: "BE0403170008", Roles: []entity.Role{entity.ShippingAgent}}},
		Accept: &commands.Acceptor{Store: nullAcceptances{}, Queue: nullQueue{}, Now: time.Now, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))},
		Ports:  release.ParsePorts("BEANR"), Stage: "bench", Now: time.Now,
	}
	h := lambda.NewHandler(apigw.Lambda(in.Handle, slog.New(slog.NewJSONHandler(io.Discard, nil))))
	ev := events.APIGatewayProxyRequest{
		Resource: "/ingestion/v1/ingestion/{ingestionId}", HTTPMethod: "POST",
		PathParameters: map[string]string{"ingestionId": "1d6e0000-0000-4000-8000-000000000001"},
		Headers:        map[string]string{"Content-Type": "application/json", "External-Reference-Id": "ref"},
		Body: `{"releaseIdentification":"REL-1","releaseOrderReference":"RO-1","equipmentStatus":"Import","fullEmptyIndicator":"Full",
"vesselName":"MSC ANTWERP","voyageNumber":"V123","equipmentType":"45G1","isCarrierHaulage":false,"meansOfTransport":"Truck",
"billOfLadingNumbers":["BL1","BL2"],"terminalCode":"01700","actionType":"Release",
"carrier":{"identificationType":"Tin","identificationCode":"BE0403170008"},"releaseTo":{"identificationType":"NxtEntityId","identificationCode":"NXT200000005"},
"releaseDateTimeUtc":"2026-11-21T08:00:00Z","expirationDateTimeUtc":"2026-12-21T08:00:00Z","equipmentNumber":"CSQU3054383","portLoCode":"BEANR"}`,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r", Authorizer: map[string]any{
			apigw.CtxEntityID: "NXT200000001", apigw.CtxClientID: "c", apigw.CtxRoles: "ShippingAgent",
		}},
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil || !strings.Contains(string(out), `"statusCode":202`) {
		b.Fatalf("E1 did not accept the benchmark request: %s %v", out, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
}

// memCredentials stands in for the table behind the token endpoint and the authorizer.
type memCredentials struct {
	client identity.Client
	entity entity.Entity
	key    identity.SubscriptionKey
}

func (m memCredentials) Client(_ context.Context, id string) (identity.Client, error) {
	if id != m.client.ClientID {
		return identity.Client{}, identity.ErrUnknown
	}
	return m.client, nil
}

func (m memCredentials) Entity(context.Context, string) (entity.Entity, error) { return m.entity, nil }

func (m memCredentials) SubscriptionKey(_ context.Context, hash string) (identity.SubscriptionKey, error) {
	if hash != m.key.Hash {
		return identity.SubscriptionKey{}, identity.ErrUnknown
	}
	return m.key, nil
}

// noFailures is a failure log with no record: the common case of a client that knows its secret.
type noFailures struct{}

func (noFailures) AuthFailures(context.Context, string, string) (identity.AuthFailures, error) {
	return identity.AuthFailures{}, nil
}
func (noFailures) SaveAuthFailures(context.Context, string, string, identity.AuthFailures, identity.AuthFailures) error {
	return nil
}
func (noFailures) ClearAuthFailures(context.Context, string, string) error { return nil }

// credentials makes a client, its entity and a subscription key with a local signer.
func credentials(b *testing.B) (memCredentials, *identity.SecretHasher, *identity.LocalSigner, string, string) {
	secrets, err := identity.GenerateSecretHasher()
	if err != nil {
		b.Fatal(err)
	}
	signer, err := identity.GenerateLocalSigner()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	c, secret, err := identity.NewClient(secrets, "NXT200000001", "", "", now)
	if err != nil {
		b.Fatal(err)
	}
	k, raw, err := identity.NewSubscriptionKey("NXT200000001", "cpu", "bench", "", now)
	if err != nil {
		b.Fatal(err)
	}
	m := memCredentials{client: c, key: k, entity: entity.Entity{NxtEntityID: "NXT200000001", Roles: []entity.Role{entity.ShippingAgent}}}
	return m, secrets, signer, secret, raw
}

// BenchmarkTokenHandler is the token endpoint's own cost per call: the form decoded, the failure
// record read, the client's secret checked with the keyed hash, and an ES256 token signed (with a
// local key: in AWS the signature is a KMS call, not measured here).
func BenchmarkTokenHandler(b *testing.B) {
	m, secrets, signer, secret, _ := credentials(b)
	te := &auth.TokenEndpoint{Clients: m, Secrets: secrets, Failures: noFailures{}, Signer: signer, Stage: "bench", TTL: time.Hour, Now: time.Now,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	h := lambda.NewHandler(apigw.Lambda(te.Handle, slog.New(slog.NewJSONHandler(io.Discard, nil))))
	payload, err := json.Marshal(events.APIGatewayProxyRequest{
		Resource: "/oauth2/token", Path: "/oauth2/token", HTTPMethod: "POST",
		Headers:        map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		Body:           url.Values{"grant_type": {"client_credentials"}, "client_id": {m.client.ClientID}, "client_secret": {secret}}.Encode(),
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r", Identity: events.APIGatewayRequestIdentity{SourceIP: "192.0.2.1"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	if out, err := h.Invoke(context.Background(), payload); err != nil || !strings.Contains(string(out), `"statusCode":200`) {
		b.Fatalf("the token endpoint refused the benchmark request: %s %v", out, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorizerHandler is the authorizer's own cost per call: a valid ES256 token verified
// and a known subscription key checked (from its in-process cache, as on a warm instance).
func BenchmarkAuthorizerHandler(b *testing.B) {
	m, _, signer, _, key := credentials(b)
	a := &auth.Authorizer{Verifier: identity.NewVerifier(signer.Public(), "bench"), Keys: m, Stage: "bench", Now: time.Now, KeyCacheTTL: time.Hour,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	tok, err := identity.IssueToken(context.Background(), signer, "bench", identity.Caller{ClientID: m.client.ClientID, EntityID: "NXT200000001", Roles: []string{"ShippingAgent"}}, time.Now(), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	h := lambda.NewHandler(a.Handle)
	payload, err := json.Marshal(events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST", MethodArn: "arn:aws:execute-api:eu-west-1:123456789012:abc/bench/GET/certified-pickup/v1/entities",
		Resource: "/certified-pickup/v1/entities", Path: "/certified-pickup/v1/entities", HTTPMethod: "GET",
		Headers: map[string]string{"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": key},
	})
	if err != nil {
		b.Fatal(err)
	}
	if out, err := h.Invoke(context.Background(), payload); err != nil || !strings.Contains(string(out), `"Allow"`) {
		b.Fatalf("the authorizer refused the benchmark request: %s %v", out, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignInPassword is the sign-in's own cost beyond storage and e-mail: verifying the
// password's argon2id hash (19 MiB, 2 passes), which every sign-in pays, known address or not.
func BenchmarkSignInPassword(b *testing.B) {
	hash, err := people.HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !people.VerifyPassword("correct horse battery staple", hash) {
			b.Fatal("no match")
		}
	}
}
