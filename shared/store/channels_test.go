package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/store"
	"github.com/portcommunity/cpu/shared/webhook"
)

func channel(id string, now time.Time) webhook.Channel {
	return webhook.Channel{ID: id, EntityID: "NXT200000001", Name: "c", URL: "https://hooks.example.com", Enabled: true,
		Status: webhook.StatusActive, CreatedOn: now, Version: 1, SigningKeys: []webhook.SigningKey{{Sealed: []byte("k"), CreatedOn: now}},
		SealedClientSecret: []byte("cs")}
}

// TestChannelItems: the five-channel cap, a replace that keeps what deliverers wrote meanwhile,
// a disable that stores its notice once, tokens kept for their version only.
func TestChannelItems(t *testing.T) {
	ctx := context.Background()
	st, _, _ := newStore(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range webhook.MaxChannels {
		if err := st.CreateChannel(ctx, channel("c"+strconv.Itoa(i), now)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateChannel(ctx, channel("c9", now)); !errors.Is(err, store.ErrChannelLimit) {
		t.Fatalf("a sixth channel: %v", err)
	}
	if err := st.DeleteChannel(ctx, "NXT200000001", "c4"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteChannel(ctx, "NXT200000001", "c4"); !errors.Is(err, webhook.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := st.CreateChannel(ctx, channel("c9", now)); err != nil {
		t.Fatalf("a fifth channel after a delete: %v", err)
	}

	// The owner reads c0, a deliverer records a failure, the owner's rotation then writes: the
	// streak stays (the owner does not write what deliverers keep).
	read, _ := st.Channel(ctx, "NXT200000001", "c0")
	if err := st.MarkFailing(ctx, "NXT200000001", "c0", now); err != nil {
		t.Fatal(err)
	}
	rotated := read
	rotated.SigningKeys = append([]webhook.SigningKey{{Sealed: []byte("k2"), CreatedOn: now}}, read.SigningKeys...)
	rotated.Version++
	if err := st.ReplaceChannel(ctx, rotated, read.Version, false); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Channel(ctx, "NXT200000001", "c0")
	if got.FailingSince == nil || len(got.SigningKeys) != 2 || got.Version != 2 || string(got.SealedClientSecret) != "cs" {
		t.Fatalf("after the rotation: %+v", got)
	}
	if err := st.ReplaceChannel(ctx, rotated, read.Version, false); !errors.Is(err, store.ErrChannelChanged) {
		t.Fatalf("a write over a stale version: %v", err)
	}
	// A token saved for an old version is not kept; for the current one it is.
	if err := st.SaveToken(ctx, "NXT200000001", "c0", 1, []byte("old"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ = st.Channel(ctx, "NXT200000001", "c0"); got.SealedToken != nil {
		t.Fatal("a token of an old version was kept")
	}
	if err := st.SaveToken(ctx, "NXT200000001", "c0", 2, []byte("tok"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A PUT of the owner (clearDelivery) forgets the token and the streak, and a secret of an
	// authentication type it no longer has.
	put := got
	put.SealedClientSecret, put.Version = nil, 3
	if err := st.ReplaceChannel(ctx, put, 2, true); err != nil {
		t.Fatal(err)
	}
	if got, _ = st.Channel(ctx, "NXT200000001", "c0"); got.SealedToken != nil || got.FailingSince != nil || got.SealedClientSecret != nil {
		t.Fatalf("after a PUT: %+v", got)
	}

	// Two deliverers see the failure that disables c1, a moment apart: the first disables it with
	// its notice, the second changes nothing.
	for i, want := range []bool{true, false} {
		at := now.Add(time.Duration(i) * time.Second)
		changed, err := st.DisableChannel(ctx, "NXT200000001", "c1", "gone", at, webhook.DisabledNotice(channel("c1", now), "gone", at))
		if err != nil || changed != want {
			t.Fatalf("disable %d: changed %v, want %v (%v)", i, changed, want, err)
		}
	}
	page, err := st.QueryNotifications(ctx, notification.Query{Receiver: "NXT200000001", From: now.Add(-time.Hour), To: now.Add(time.Hour), Limit: 10, MaxBytes: 1 << 20})
	if err != nil || len(page.Items) != 1 || page.Items[0].Event != webhook.EventChannelDisabled {
		t.Fatalf("notices: %v %+v", err, page.Items)
	}
	if got, _ = st.Channel(ctx, "NXT200000001", "c1"); got.Status != webhook.StatusDisabled || got.Enabled || got.DisabledReason != "gone" {
		t.Fatalf("disabled channel: %+v", got)
	}
	found, err := st.StoredNotifications(ctx, "NXT200000001", []string{store.NotificationSK(page.Items[0].StoredOn, page.Items[0].PublicReferenceID, "000#00"), "nope"}, now)
	if err != nil || len(found) != 1 {
		t.Fatalf("stored notifications by key: %v %d", err, len(found))
	}
}
