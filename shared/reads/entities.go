package reads

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/registry"
)

// SearchFilter echoes the request: values given, others null (seed).
type SearchFilter struct {
	EORI        *string `json:"eori"`
	DUNS        *string `json:"duns"`
	VAT         *string `json:"vat"`
	NxtEntityID *string `json:"nxtEntityId"`
	EntityName  *string `json:"entityName"`
	APCSCode    *string `json:"apcsCode"`
	Page        int     `json:"page"`
	PageSize    int     `json:"pageSize"`
}

// PhoneBookItem is one entity in the seed's response shape.
type PhoneBookItem struct {
	APCSCode    *string          `json:"apcsCode"`
	Addresses   []entity.Address `json:"addresses"`
	NxtEntityID string           `json:"nxtEntityId"`
	Name        string           `json:"name"`
	VAT         *string          `json:"vat"`
	DUNS        *string          `json:"duns"`
	EORI        *string          `json:"eori"`
	SCAC        *string          `json:"scac"`
	APCS        *string          `json:"apcs"`
	ExternalID  *string          `json:"externalId"`
}

// Response is the E6 200 body.
type Response struct {
	SearchFilter        SearchFilter    `json:"searchFilter"`
	PhoneBookItems      []PhoneBookItem `json:"phoneBookItems"`
	TotalRows           int             `json:"totalRows"`
	TotalPages          int             `json:"totalPages"`
	PublicReferenceID   string          `json:"publicReferenceId"`
	ExternalReferenceID *string         `json:"externalReferenceId"`
}

// Entities serves E6 for any caller holding a CPu role.
func Entities(idx registry.Index) apigw.Handler {
	return func(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
		if _, err := apigw.RequireCaller(r); err != nil {
			return apigw.Response{}, err
		}
		q, err := registry.ParseQuery(r.Query)
		if err != nil {
			return apigw.Response{}, err
		}
		page, err := registry.Search(ctx, idx, q)
		if err != nil {
			return apigw.Response{}, err
		}
		out := Response{
			SearchFilter: SearchFilter{
				EORI: q.EORI, DUNS: q.DUNS, VAT: q.VAT, NxtEntityID: q.NxtEntityID,
				EntityName: q.EntityName, APCSCode: q.APCSCode, Page: q.Page, PageSize: q.PageSize,
			},
			PhoneBookItems:      make([]PhoneBookItem, 0, len(page.Items)),
			TotalRows:           page.TotalRows,
			TotalPages:          page.TotalPages,
			PublicReferenceID:   uuid.NewString(),
			ExternalReferenceID: r.ExternalRef,
		}
		for _, e := range page.Items {
			out.PhoneBookItems = append(out.PhoneBookItems, phoneBookItem(e))
		}
		return apigw.JSON(http.StatusOK, out)
	}
}

func phoneBookItem(e entity.Entity) PhoneBookItem {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	addrs := e.Addresses
	if addrs == nil {
		addrs = []entity.Address{}
	}
	return PhoneBookItem{
		APCSCode: opt(e.APCSCode), Addresses: addrs, NxtEntityID: e.NxtEntityID, Name: e.Name,
		VAT: opt(e.VAT), DUNS: opt(e.DUNS), EORI: opt(e.EORI), SCAC: opt(e.SCAC), APCS: opt(e.APCSCode),
		ExternalID: opt(e.ExternalID),
	}
}
