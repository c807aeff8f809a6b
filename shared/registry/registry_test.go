package registry

import (
	"net/http"
	"strings"
	"testing"

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
