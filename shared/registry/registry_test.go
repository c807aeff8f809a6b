package registry

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"

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

// oneEntity is an index of one entity.
type oneEntity struct{ e entity.Entity }

func (o oneEntity) ByIdentifier(context.Context, Identifier, string) ([]Summary, error) {
	return []Summary{SummaryOf(o.e)}, nil
}
func (o oneEntity) ByNameGram(context.Context, string) ([]Summary, error) {
	return []Summary{SummaryOf(o.e)}, nil
}
func (o oneEntity) Profiles(context.Context, []string) ([]entity.Entity, error) {
	return []entity.Entity{o.e}, nil
}

// TestPagesPastTheEndAreEmpty: any page number ParseQuery takes is answered, also one whose
// offset overflows int (found while writing FuzzEntities: it sliced at a negative offset and
// panicked, which API Gateway answers with a 502).
func TestPagesPastTheEndAreEmpty(t *testing.T) {
	idx := oneEntity{entity.Entity{NxtEntityID: "NXT200000001", Name: "Scheldt Shipping", VAT: "BE0403170008"}}
	vat := "BE0403170008"
	for _, c := range []struct{ page, size, items int }{
		{1, 1, 1}, {2, 1, 0}, {math.MaxInt, 100, 0}, {math.MaxInt/2 + 2, 2, 0}, {math.MaxInt/100 + 2, 100, 0},
	} {
		p, err := Search(context.Background(), idx, Query{VAT: &vat, Page: c.page, PageSize: c.size})
		if err != nil || len(p.Items) != c.items || p.TotalRows != 1 || p.TotalPages != 1 {
			t.Errorf("page %d of %d: %+v %v", c.page, c.size, p, err)
		}
	}
}
