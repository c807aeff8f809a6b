package registry

import (
	"context"
	"sort"
	"strings"

	"github.com/portcommunity/cpu/shared/entity"
)

// Summary is what the index holds per entity: enough to apply every filter and sort by name
// without reading the full profile.
type Summary struct {
	NxtEntityID string `dynamodbav:"entityId"`
	FoldedName  string `dynamodbav:"foldedName"`
	VAT         string `dynamodbav:"vat"`
	EORI        string `dynamodbav:"eori"`
	DUNS        string `dynamodbav:"duns"`
	APCSCode    string `dynamodbav:"apcsCode"`
}

// SummaryOf an entity (after Normalize).
func SummaryOf(e entity.Entity) Summary {
	return Summary{NxtEntityID: e.NxtEntityID, FoldedName: entity.FoldName(e.Name), VAT: e.VAT, EORI: e.EORI, DUNS: e.DUNS, APCSCode: e.APCSCode}
}

// Identifier is a kind of exact-match filter.
type Identifier string

const (
	ByNxtEntityID Identifier = "NXT"
	ByVAT         Identifier = "VAT"
	ByEORI        Identifier = "EORI"
	ByDUNS        Identifier = "DUNS"
	ByAPCS        Identifier = "APCS"
	BySCAC        Identifier = "SCAC" // not a registry filter; used to resolve parties
)

// Index is the storage port of the registry.
type Index interface {
	// ByIdentifier returns the entities whose identifier equals value (upper-cased).
	ByIdentifier(ctx context.Context, id Identifier, value string) ([]Summary, error)
	// ByNameGram returns the entities with a name trigram that starts with gram (see
	// entity.SearchGram); an entity may come more than once.
	ByNameGram(ctx context.Context, gram string) ([]Summary, error)
	// Profiles returns the full entities, in the order of ids.
	Profiles(ctx context.Context, ids []string) ([]entity.Entity, error)
}

// Page is one page of results.
type Page struct {
	Items      []entity.Entity
	TotalRows  int
	TotalPages int
}

// Search answers a query: it reads the candidates of the most selective filter given (exact
// identifiers before the name), keeps those that pass every filter, sorts them by name and reads
// the full profiles of one page only.
func Search(ctx context.Context, idx Index, q Query) (Page, error) {
	candidates, err := candidates(ctx, idx, q)
	if err != nil {
		return Page{}, err
	}
	seen := map[string]bool{}
	var hits []Summary
	for _, s := range candidates {
		if seen[s.NxtEntityID] || !matches(s, q) {
			continue
		}
		seen[s.NxtEntityID] = true
		hits = append(hits, s)
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].FoldedName != hits[j].FoldedName {
			return hits[i].FoldedName < hits[j].FoldedName
		}
		return hits[i].NxtEntityID < hits[j].NxtEntityID
	})
	page := Page{TotalRows: len(hits), TotalPages: (len(hits) + q.PageSize - 1) / q.PageSize, Items: []entity.Entity{}}
	// A page past the last is empty. Compared in pages: the page number is the caller's, and
	// (Page-1)*PageSize overflows near the top of int into a negative offset.
	if q.Page-1 >= page.TotalPages {
		return page, nil
	}
	from := (q.Page - 1) * q.PageSize
	to := min(from+q.PageSize, len(hits))
	ids := make([]string, 0, to-from)
	for _, s := range hits[from:to] {
		ids = append(ids, s.NxtEntityID)
	}
	page.Items, err = idx.Profiles(ctx, ids)
	return page, err
}

func candidates(ctx context.Context, idx Index, q Query) ([]Summary, error) {
	exact := []struct {
		id  Identifier
		val *string
	}{{ByNxtEntityID, q.NxtEntityID}, {ByVAT, q.VAT}, {ByEORI, q.EORI}, {ByDUNS, q.DUNS}, {ByAPCS, q.APCSCode}}
	for _, f := range exact {
		if f.val != nil {
			return idx.ByIdentifier(ctx, f.id, strings.ToUpper(*f.val))
		}
	}
	return idx.ByNameGram(ctx, entity.SearchGram(*q.EntityName))
}

func matches(s Summary, q Query) bool {
	eq := func(filter *string, v string) bool { return filter == nil || strings.EqualFold(*filter, v) }
	return eq(q.NxtEntityID, s.NxtEntityID) && eq(q.VAT, s.VAT) && eq(q.EORI, s.EORI) && eq(q.DUNS, s.DUNS) &&
		eq(q.APCSCode, s.APCSCode) && (q.EntityName == nil || entity.MatchesName(s.FoldedName, *q.EntityName))
}
