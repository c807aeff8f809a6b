package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/reads"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

const heldRights = 10000

// rightsBench measures E2 for an entity holding 10,000 rights: Query calls, items read and time
// per page, beside a loop of single-item GetItem calls on the same DynamoDB Local.
func rightsBench(db *dynamodb.Client) {
	fmt.Printf("== E2 for an entity holding %d rights (on DynamoDB Local)\n", heldRights)
	ctx := context.Background()
	table := "bench-rights"
	if err := localstack.CreateTable(ctx, db, table, catalog.SingleTable); err != nil {
		fail(err)
	}
	st := store.New(db, table)
	sa := entity.Entity{NxtEntityID: "NXT290000001", Name: "Bench Shipping Agency", VAT: "BE0403170008", Roles: []entity.Role{entity.ShippingAgent},
		Addresses: []entity.Address{{AddressTypeCode: "1", City: "Antwerpen", Country: "BE"}}}
	term := entity.Entity{NxtEntityID: "NXT290000003", Name: "Bench Terminal", VAT: "BE0403170701", Roles: []entity.Role{entity.TerminalOperator},
		TerminalCodes: []string{"01700"}, Addresses: []entity.Address{{AddressTypeCode: "1", City: "Antwerpen", Country: "BE"}}}
	for _, e := range []entity.Entity{sa, term} {
		if err := st.Register(ctx, e, nil); err != nil {
			fail(err)
		}
	}
	start := time.Now()
	rels := make([]release.Release, 0, heldRights)
	for i := 0; i < heldRights; i++ {
		cmd := command(container("RGTU", i), sa.NxtEntityID)
		cmd.Request.ReleaseTo = nil
		rels = append(rels, *release.Apply(nil, cmd, release.Resolved{TerminalOperatorID: term.NxtEntityID}, time.Now(), uuid.NewString).Next)
	}
	if err := st.Import(ctx, rels); err != nil {
		fail(err)
	}
	fmt.Printf("(%d releases imported in %.0f s)\n", heldRights, time.Since(start).Seconds())

	// Baseline: one GetItem of one item, in a loop.
	const gets = 200
	gstart := time.Now()
	for i := 0; i < gets; i++ {
		if _, err := st.Entity(ctx, sa.NxtEntityID); err != nil {
			fail(err)
		}
	}
	perGet := time.Since(gstart) / gets
	assigned := release.StatusAssigned
	for _, c := range []struct {
		name string
		f    reads.RightsFilters
	}{
		{"first page of 25, unfiltered", reads.RightsFilters{Page: 1, PageSize: 25}},
		{"first page of 100, unfiltered", reads.RightsFilters{Page: 1, PageSize: 100}},
		{"page 200 of 25, unfiltered", reads.RightsFilters{Page: 200, PageSize: 25}},
		{"first page of 25, filtered (status)", reads.RightsFilters{Page: 1, PageSize: 25, ReleaseRightStatus: &assigned}},
	} {
		const rounds = 5
		var calls, read int
		start := time.Now()
		for r := 0; r < rounds; r++ {
			page, stats, err := reads.List(ctx, st, sa.NxtEntityID, "BEANR", c.f, time.Now())
			if err != nil || page.TotalRows != heldRights || len(page.Items) != c.f.PageSize {
				fail(fmt.Errorf("%s: %d rows, %d items, %v", c.name, page.TotalRows, len(page.Items), err))
			}
			calls, read = calls+stats.Queries, read+stats.ItemsRead
		}
		perPage := time.Since(start) / rounds
		fmt.Printf("%-38s %.0f Query call(s), %5d membership items read (+1 BatchGetItem of the page), %6.1f ms; GetItem %.2f ms; ratio %.0f\n",
			c.name+":", float64(calls)/rounds, read/rounds, ms(perPage), ms(perGet), float64(perPage)/float64(perGet))
	}
}
