// Package registry answers the company registry (contract §3 E6): filters combined with AND, a
// partial case-insensitive name, paging with totals and the echo of the filter. It reads through the
// Index port, whose DynamoDB adapter serves every filter with a Query on keys (never a Scan).
package registry

import (
	"strconv"
	"strings"

	"github.com/portcommunity/cpu/shared/problem"
)

const (
	DefaultPageSize = 25
	MaxPageSize     = 100
	// maxFilterLength bounds a filter value; no identifier or name is longer.
	maxFilterLength = 100
)

// Query is a parsed registry request. A nil filter was not given (an empty value is no filter).
type Query struct {
	EORI        *string
	DUNS        *string
	VAT         *string
	NxtEntityID *string
	EntityName  *string
	APCSCode    *string
	Page        int
	PageSize    int
}

// filterParams maps the seed's query parameter names (matched case-insensitively, as the seed's
// ASP.NET binding does) to the fields they fill.
func (q *Query) filterParams() []struct {
	name string
	dst  **string
} {
	return []struct {
		name string
		dst  **string
	}{
		{"EORI", &q.EORI}, {"DUNS", &q.DUNS}, {"VAT", &q.VAT}, {"NxtEntityId", &q.NxtEntityID},
		{"entityName", &q.EntityName}, {"apcsCode", &q.APCSCode},
	}
}

// ParseQuery reads and validates the query string. Unknown parameters are ignored, as by the seed's
// API; every broken rule is reported under the parameter's name.
func ParseQuery(params map[string][]string) (Query, error) {
	q := Query{Page: 1, PageSize: DefaultPageSize}
	var v problem.Validation
	get := func(name string) (string, bool) {
		for k, vals := range params {
			if strings.EqualFold(k, name) && len(vals) > 0 {
				return vals[len(vals)-1], true
			}
		}
		return "", false
	}
	given := false
	for _, f := range q.filterParams() {
		raw, ok := get(f.name)
		val := strings.TrimSpace(raw)
		if !ok || val == "" {
			continue
		}
		given = true
		if len(val) > maxFilterLength {
			v.Add(f.name, "'%s' must be at most %d characters.", f.name, maxFilterLength)
			continue
		}
		s := val
		*f.dst = &s
	}
	if raw, ok := get("page"); ok && strings.TrimSpace(raw) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		switch {
		case err != nil:
			v.Add("Page", "'Page' must be a whole number.")
		case n < 1:
			v.Add("Page", "'Page' must be greater than or equal to '1'.")
		default:
			q.Page = n
		}
	}
	if raw, ok := get("pageSize"); ok && strings.TrimSpace(raw) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		switch {
		case err != nil:
			v.Add("PageSize", "'PageSize' must be a whole number.")
		case n < 1 || n > MaxPageSize:
			v.Add("PageSize", "'PageSize' must be between 1 and %d.", MaxPageSize)
		default:
			q.PageSize = n
		}
	}
	if !given {
		v.Add("SearchFilter", "At least one of EORI, DUNS, VAT, NxtEntityId, entityName or apcsCode must be given.")
	}
	return q, v.Err()
}
