package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/reads"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

// counting is the DynamoDB client with a count of the calls E7 makes and the items they read, and
// the write capacity writes consume as DynamoDB reports it.
type counting struct {
	*dynamodb.Client
	calls, items atomic.Int64
	capacity     atomic.Int64 // write capacity, in thousandths
}

func (c *counting) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.Client.Query(ctx, in, opts...)
	c.calls.Add(1)
	if err == nil {
		c.items.Add(int64(out.ScannedCount))
	}
	return out, err
}

func (c *counting) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.Client.BatchGetItem(ctx, in, opts...)
	c.calls.Add(1)
	if err == nil {
		for _, items := range out.Responses {
			c.items.Add(int64(len(items)))
		}
	}
	return out, err
}

func (c *counting) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := c.Client.BatchWriteItem(ctx, in, opts...)
	if err == nil {
		for _, cc := range out.ConsumedCapacity {
			c.capacity.Add(int64(math.Round(1000 * aws.ToFloat64(cc.CapacityUnits))))
		}
	}
	return out, err
}

const (
	busyNotifications  = 10000
	quietNotifications = 10
)

// notificationsBench measures E7 for a receiver holding 10,000 notifications beside one holding 10
// (time, DynamoDB calls and items read per answer, for each access path), and the write capacity
// of one E2 answer beside the minimum its items need.
func notificationsBench(db *dynamodb.Client) {
	fmt.Printf("== E7 for a receiver with %d notifications beside one with %d (on DynamoDB Local)\n", busyNotifications, quietNotifications)
	ctx := context.Background()
	table := "bench-notifications"
	// No stream: nothing here consumes it, and DynamoDB Local's stream upkeep would slow the writes.
	if err := localstack.CreateTableWithoutStream(ctx, db, table, catalog.SingleTable); err != nil {
		fail(err)
	}
	cdb := &counting{Client: db}
	st := store.New(cdb, table)
	now := time.Now().UTC()
	busy, quiet := "NXT290000003", "NXT290000007"
	write := func(receiver string, n int) {
		ns := make([]notification.Notification, 0, n)
		for i := 0; i < n; i++ {
			c, event := container("NTFU", i%500), release.EventLightChanged
			if i%5 == 0 {
				event = release.EventTransferred
			}
			if i == n-1 || i == 0 { // the matches at both ends of the 168 hours
				c = "CSQU3054383"
			}
			at := now.Add(-notification.Retention + time.Minute + time.Duration(i)*(notification.Retention-2*time.Minute)/time.Duration(n))
			ns = append(ns, benchNotification(receiver, uuid.NewString(), c, event, at, nil))
		}
		if err := st.PutNotifications(ctx, ns); err != nil {
			fail(err)
		}
	}
	start := time.Now()
	write(busy, busyNotifications)
	write(quiet, quietNotifications)
	fmt.Printf("(%d notifications written in %.0f s)\n", busyNotifications+quietNotifications, time.Since(start).Seconds())
	ref, _ := st.QueryNotifications(ctx, notification.Query{Receiver: busy, From: now.Add(-notification.Retention), To: now.Add(time.Second), Equipment: "CSQU3054383", Limit: 1, MaxBytes: notification.MaxPageBytes})
	quietRef, _ := st.QueryNotifications(ctx, notification.Query{Receiver: quiet, From: now.Add(-notification.Retention), To: now.Add(time.Second), Equipment: "CSQU3054383", Limit: 1, MaxBytes: notification.MaxPageBytes})
	for _, c := range []struct {
		name string
		q    func(receiver, ref string) notification.Query
	}{
		{"by container (2 matches)", func(r, _ string) notification.Query { return notification.Query{Receiver: r, Equipment: "CSQU3054383"} }},
		{"by reference (1 match)", func(r, ref string) notification.Query { return notification.Query{Receiver: r, PublicRef: ref} }},
		{"by event (a page of up to 1,000)", func(r, _ string) notification.Query {
			return notification.Query{Receiver: r, Event: release.EventTransferred}
		}},
		{"by time (the last hour)", func(r, _ string) notification.Query {
			return notification.Query{Receiver: r, From: now.Add(-time.Hour)}
		}},
	} {
		measure := func(receiver, ref string) (time.Duration, float64, float64, int) {
			const rounds = 5
			cdb.calls.Store(0)
			cdb.items.Store(0)
			got := 0
			start := time.Now()
			for i := 0; i < rounds; i++ {
				q := c.q(receiver, ref)
				if q.From.IsZero() {
					q.From = now.Add(-notification.Retention)
				}
				q.To, q.Limit, q.MaxBytes = now.Add(time.Second), notification.MaxResults, notification.MaxPageBytes
				page, err := st.QueryNotifications(ctx, q)
				if err != nil {
					fail(err)
				}
				got = len(page.Items)
			}
			return time.Since(start) / rounds, float64(cdb.calls.Load()) / rounds, float64(cdb.items.Load()) / rounds, got
		}
		tb, cb, ib, nb := measure(busy, firstRef(ref))
		tq, cq, iq, nq := measure(quiet, firstRef(quietRef))
		fmt.Printf("%-34s busy: %4d answered, %5.1f ms, %3.0f calls, %5.0f items read | quiet: %3d answered, %5.1f ms, %3.0f calls, %4.0f items read | time ratio %.1f\n",
			c.name+":", nb, ms(tb), cb, ib, nq, ms(tq), cq, iq, float64(tb)/float64(tq))
	}

	fmt.Println("== Write capacity of one E2 answer (its notification, written once) beside the minimum its items need")
	for _, rows := range []int{25, 100} {
		page := reads.Page{Page: 1, PageSize: rows, TotalRows: 10000, TotalPages: 10000 / rows}
		for i := 0; i < rows; i++ {
			c, at := container("ANSU", i), now
			page.Items = append(page.Items, reads.Item{ReleaseID: uuid.NewString(), PortLoCode: "BEANR", EquipmentNumber: c, BillOfLadingNumbers: []string{"BL" + c},
				ReleaseIdentification: "R-" + c, TerminalCode: "01700", ShippingAgent: reads.Party{NxtEntityID: "NXT290000001", Name: "Bench Shipping Agency", TIN: "BE0403170008"},
				Terminal: reads.Party{NxtEntityID: busy, Name: "Bench Terminal", TIN: "BE0403170701"}, CurrentStakeholder: reads.Party{NxtEntityID: quiet, Name: "Bench Trucking", TIN: "BE0403170799"},
				ReleaseRightStatus: 1, Lights: release.StartingLights().View("OK"), ReleaseDateTimeUtc: &at, ExpirationDateTimeUtc: &at})
		}
		result, _ := json.Marshal(page)
		n := benchNotification(quiet, uuid.NewString(), "", release.EventUpdate, now, result)
		cdb.capacity.Store(0)
		if err := st.PutNotifications(ctx, []notification.Notification{n}); err != nil {
			fail(err)
		}
		// The minimum: the notification once, at one unit per started KB, and one unit per index
		// entry it has (by reference and by event; an E2 answer has no container or release).
		item, err := store.NotificationItem(n)
		if err != nil {
			fail(err)
		}
		base := math.Ceil(float64(store.ItemSize(item)) / 1024)
		minimum := base + 2
		consumed := float64(cdb.capacity.Load()) / 1000
		fmt.Printf("E2 answer of %3d rows (%5.1f KB): %5.1f write units consumed, minimum %5.0f; ratio %.2f. (Before this change: the answer and its notification, each with two full copies in indexes, about %.0f.)\n",
			rows, float64(len(n.Message))/1024, consumed, minimum, consumed/minimum, 6*base)
	}
}

func firstRef(p notification.Page) string {
	if len(p.Items) == 0 {
		return uuid.NewString()
	}
	return p.Items[0].PublicReferenceID
}

// benchNotification is the notification an outcome gives one receiver, with a real envelope.
func benchNotification(receiver, ref, container, event string, at time.Time, result json.RawMessage) notification.Notification {
	typ := release.TypeReleaseLight
	if event == release.EventTransferred || result != nil {
		typ = release.TypeReleaseRight
	}
	o := release.Outcome{PublicReferenceID: ref, Requester: "NXT290000001", Action: release.ActBlock, At: at, Applied: true,
		Notices: []release.Notice{{Type: typ, Event: event, Recipients: []string{receiver}}}, PortLoCode: "BEANR", EquipmentNumber: container,
		Errors: []string{}, Warnings: []string{}, Result: result}
	if result == nil {
		o.ReleaseID, o.BillOfLadingNumbers, o.Holder, o.RightStatus, o.Light = uuid.NewString(), []string{"BL1"}, "NXT290000001", release.StatusAssigned, release.LightOK
	}
	return notification.Build(o)[0]
}
