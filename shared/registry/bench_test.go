package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
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
	var idx memIndex
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("Forwarder %04d Logistics", i)
		if i%10 == 0 {
			name = fmt.Sprintf("Shipping %04d Agency", i)
		}
		idx = append(idx, entity.Entity{NxtEntityID: fmt.Sprintf("NXT2%08d", i), Name: name, VAT: fmt.Sprintf("BE%010d", i),
			Addresses: []entity.Address{{AddressTypeCode: "1", City: "Antwerpen", Country: "BE"}}})
	}
	h := lambda.NewHandler(apigw.Lambda(Handler(newIndexedMem(idx)), slog.New(slog.NewJSONHandler(io.Discard, nil))))
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
	grams map[string][]Summary
}

func newIndexedMem(es []entity.Entity) indexedMem {
	m := indexedMem{byID: map[string]entity.Entity{}, grams: map[string][]Summary{}}
	for _, e := range es {
		m.byID[e.NxtEntityID] = e
		for _, g := range entity.NameGrams(e.Name) {
			m.grams[g] = append(m.grams[g], SummaryOf(e))
		}
	}
	return m
}

func (m indexedMem) ByIdentifier(context.Context, Identifier, string) ([]Summary, error) {
	return nil, nil
}

func (m indexedMem) ByNameGram(_ context.Context, gram string) ([]Summary, error) {
	return m.grams[gram], nil
}

func (m indexedMem) Profiles(_ context.Context, ids []string) ([]entity.Entity, error) {
	out := make([]entity.Entity, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.byID[id])
	}
	return out, nil
}
