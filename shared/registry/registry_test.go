package registry

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/problem"
)

func TestParseQuery(t *testing.T) {
	q, err := ParseQuery(map[string][]string{"entityname": {" ship "}, "PAGE": {"2"}, "pagesize": {"10"}, "unknown": {"x"}, "EORI": {""}})
	if err != nil || *q.EntityName != "ship" || q.Page != 2 || q.PageSize != 10 || q.EORI != nil {
		t.Fatalf("%+v %v", q, err)
	}
	q, err = ParseQuery(map[string][]string{"VAT": {"BE1"}})
	if err != nil || q.Page != 1 || q.PageSize != DefaultPageSize {
		t.Fatalf("defaults: %+v %v", q, err)
	}
	for _, c := range []struct {
		params map[string][]string
		field  string
		msg    string
	}{
		{map[string][]string{"VAT": {"x"}, "page": {"0"}}, "Page", "'Page' must be greater than or equal to '1'."},
		{map[string][]string{"VAT": {"x"}, "page": {"one"}}, "Page", "'Page' must be a whole number."},
		{map[string][]string{"VAT": {"x"}, "pageSize": {"101"}}, "PageSize", "'PageSize' must be between 1 and 100."},
		{map[string][]string{"page": {"1"}}, "SearchFilter", "At least one of"},
		{map[string][]string{"entityName": {"   "}}, "SearchFilter", "At least one of"},
		{map[string][]string{"entityName": {strings.Repeat("a", 101)}}, "entityName", "at most 100"},
	} {
		_, err := ParseQuery(c.params)
		pe := problem.As(err)
		if pe.Status() != http.StatusBadRequest || len(pe.Fields[c.field]) == 0 || !strings.Contains(pe.Fields[c.field][0], c.msg) {
			t.Errorf("%v: got %v", c.params, err)
		}
	}
}

// memIndex is an in-memory Index for the handler's unit tests.
type memIndex []entity.Entity

func (m memIndex) ByIdentifier(_ context.Context, id Identifier, v string) ([]Summary, error) {
	var out []Summary
	for _, e := range m {
		s := SummaryOf(e)
		if (id == ByVAT && s.VAT == v) || (id == ByNxtEntityID && s.NxtEntityID == v) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m memIndex) ByNameGram(_ context.Context, gram string) ([]Summary, error) {
	var out []Summary
	for _, e := range m {
		for _, g := range entity.NameGrams(e.Name) {
			if strings.HasPrefix(g, gram) {
				out = append(out, SummaryOf(e)) // duplicates on purpose, as the real index
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

func TestHandlerShape(t *testing.T) {
	idx := memIndex{
		{NxtEntityID: "NXT200000001", Name: "Scheldt Shipping Agency", VAT: "BE0403170008", APCSCode: "SA1"},
		{NxtEntityID: "NXT200000002", Name: "Albert Shipping", VAT: "BE0403170701"},
	}
	h := Handler(idx)
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
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "apigw", "registry-search.json"))
	if err != nil {
		t.Fatal(err)
	}
	idx := memIndex{{NxtEntityID: "NXT200000001", Name: "Scheldt Shipping Agency", VAT: "BE0403170008"}}
	out, err := lambda.NewHandler(apigw.Lambda(Handler(idx), slog.New(slog.NewJSONHandler(io.Discard, nil)))).Invoke(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayProxyResponse
	json.Unmarshal(out, &resp)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"externalReferenceId":"fixture-ref-1"`) || !strings.Contains(resp.Body, `"totalRows":1`) {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
}
