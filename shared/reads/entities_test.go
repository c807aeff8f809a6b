package reads

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/registry"
)

// memIndex is an in-memory Index for the handler's unit tests.
type memIndex []entity.Entity

func (m memIndex) ByIdentifier(_ context.Context, id registry.Identifier, v string) ([]registry.Summary, error) {
	var out []registry.Summary
	for _, e := range m {
		s := registry.SummaryOf(e)
		if (id == registry.ByVAT && s.VAT == v) || (id == registry.ByNxtEntityID && s.NxtEntityID == v) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m memIndex) ByNameGram(_ context.Context, gram string) ([]registry.Summary, error) {
	var out []registry.Summary
	for _, e := range m {
		for _, g := range entity.NameGrams(e.Name) {
			if strings.HasPrefix(g, gram) {
				out = append(out, registry.SummaryOf(e)) // duplicates on purpose, as the real index
			}
		}
	}
	return out, nil
}

func (m memIndex) Profiles(_ context.Context, ids []string) ([]entity.Entity, error) {
	var out []entity.Entity
	for _, id := range ids {
		for _, e := range m {
			if e.NxtEntityID == id {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func TestEntitiesAnswerShape(t *testing.T) {
	idx := memIndex{
		{NxtEntityID: "NXT200000001", Name: "Scheldt Shipping Agency", VAT: "BE0403170008", APCSCode: "SA1"},
		{NxtEntityID: "NXT200000002", Name: "Albert Shipping", VAT: "BE0403170701"},
	}
	h := Entities(idx)
	ref := "my-ref"
	resp, err := h(context.Background(), &apigw.Request{
		Query:       map[string][]string{"entityName": {"shipping"}, "pageSize": {"1"}},
		Caller:      &apigw.Caller{EntityID: "NXT200000009", Roles: []entity.Role{entity.ReleaseParty}},
		ExternalRef: &ref,
	})
	if err != nil || resp.Status != 200 {
		t.Fatal(resp.Status, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(resp.Body, &doc); err != nil {
		t.Fatal(err)
	}
	filter := doc["searchFilter"].(map[string]any)
	if filter["entityName"] != "shipping" || filter["eori"] != nil || filter["page"] != 1.0 || filter["pageSize"] != 1.0 {
		t.Errorf("searchFilter: %v", filter)
	}
	items := doc["phoneBookItems"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["name"] != "Albert Shipping" || doc["totalRows"] != 2.0 || doc["totalPages"] != 2.0 {
		t.Errorf("page: %v", doc)
	}
	if doc["externalReferenceId"] != "my-ref" || doc["publicReferenceId"] == "" {
		t.Errorf("references: %v", doc)
	}
	first := items[0].(map[string]any)
	for _, k := range []string{"apcsCode", "addresses", "nxtEntityId", "name", "vat", "duns", "eori", "scac", "apcs", "externalId"} {
		if _, ok := first[k]; !ok {
			t.Errorf("phoneBookItem lacks %s", k)
		}
	}

	// A caller without any role is refused with 401.
	_, err = h(context.Background(), &apigw.Request{Query: map[string][]string{"VAT": {"x"}}, Caller: &apigw.Caller{EntityID: "NXT1"}})
	if problem.As(err).Status() != 401 {
		t.Errorf("role-less caller: %v", err)
	}
}

func TestFixtureThroughLambda(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "apigw", "entities-search.json"))
	if err != nil {
		t.Fatal(err)
	}
	idx := memIndex{{NxtEntityID: "NXT200000001", Name: "Scheldt Shipping Agency", VAT: "BE0403170008"}}
	out, err := lambda.NewHandler(apigw.Lambda(Entities(idx), slog.New(slog.NewJSONHandler(io.Discard, nil)))).Invoke(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayProxyResponse
	json.Unmarshal(out, &resp)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"externalReferenceId":"fixture-ref-1"`) || !strings.Contains(resp.Body, `"totalRows":1`) {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
}
