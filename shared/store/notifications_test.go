package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/store"
)

// TestEmptyNotificationRangesOnDynamoDB: a time range that ends before it starts holds nothing,
// whichever way E7 makes it (a day outside the 168 hours, a page token older than them); found
// while writing FuzzNotifications, where both made DynamoDB refuse the query (a 500).
func TestEmptyNotificationRangesOnDynamoDB(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	const receiver, ref = "NXT200000001", "7a1c0000-0000-4000-8000-00000000000a"
	n := notification.Notification{NxtEntityID: receiver, EquipmentNumber: "CSQU3054383", PublicReferenceID: ref, StoredOn: now.Add(-time.Hour),
		Message: "{}", Type: "ReleaseLight", Event: "Transferred", Seq: "0"}
	if err := s.PutNotifications(ctx, []notification.Notification{n}); err != nil {
		t.Fatal(err)
	}
	from, to := now.Add(-notification.Retention), now.Add(time.Second)
	if sent, err := s.SentUnder(ctx, receiver, ref, "", from, to); err != nil || !sent.ToCaller {
		t.Fatalf("inside the range: %+v %v", sent, err)
	}
	// storedOn a month ago: the day ends before the 168 hours start.
	day := now.AddDate(0, -1, 0).Truncate(24 * time.Hour)
	if sent, err := s.SentUnder(ctx, receiver, ref, "", from, day.Add(24*time.Hour)); err != nil || sent.ToAnyone {
		t.Errorf("reversed range: %+v %v", sent, err)
	}
	old := store.NotificationSK(from.Add(-time.Hour), ref, "0")
	for _, q := range []notification.Query{
		{Receiver: receiver, From: from, To: to, Before: old},
		{Receiver: receiver, From: from, To: to, Before: old, PublicRef: ref},
		{Receiver: receiver, From: from, To: day.Add(24 * time.Hour), PublicRef: ref},
	} {
		q.Limit, q.MaxBytes = notification.MaxResults, notification.MaxPageBytes
		if page, err := s.QueryNotifications(ctx, q); err != nil || len(page.Items) != 0 || page.Next != "" {
			t.Errorf("%+v: %+v %v", q, page, err)
		}
	}
	q := notification.Query{Receiver: receiver, From: from, To: to, Limit: notification.MaxResults, MaxBytes: notification.MaxPageBytes}
	if page, err := s.QueryNotifications(ctx, q); err != nil || len(page.Items) != 1 {
		t.Fatalf("inside the range: %+v %v", page, err)
	}
}
