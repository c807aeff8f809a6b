package fuzz

import (
	"encoding/base64"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/reads"
	"github.com/portcommunity/cpu/shared/store"
)

// querySeed is a seed query string and the status it must get.
type querySeed struct {
	name, query, ref string
	status           int
}

// callRead calls a read route (GET, the caller authenticated) with a raw query string.
func callRead(t testing.TB, h func(*store.Store) apigw.Handler, path, rawQuery, ref string) answer {
	t.Helper()
	_, logs := newLog()
	ev := withQuery(request("GET", path, path, nil, map[string]string{apigw.ExternalRefHeader: ref}, ""), rawQuery)
	ev.RequestContext.Authorizer = callerContext()
	// Reads write nothing: every input shares the fixture.
	return invoke(t, h(store.New(fixture(), table)), ev, logs)
}

func fuzzRead(f *testing.F, h func(*store.Store) apigw.Handler, path string, seeds []querySeed, check func(t *testing.T, a answer, ref string)) {
	seeds = append(seeds,
		querySeed{"no parameter", "", "", 400},
		querySeed{"only separators", "&&=&", "", 400},
		querySeed{"External-Reference-Id of 101 characters", seeds[0].query, strings.Repeat("r", 101), 400},
		querySeed{"External-Reference-Id with a control character", seeds[0].query, "\x1b[31m", 400},
		querySeed{"External-Reference-Id of 100 emoji", seeds[0].query, strings.Repeat("🚢", 100), 200},
	)
	for _, s := range seeds {
		want(f, s.name, callRead(f, h, path, s.query, s.ref), s.status)
		f.Add(s.query, s.ref)
	}
	f.Fuzz(func(t *testing.T, rawQuery, ref string) {
		if a := callRead(t, h, path, rawQuery, ref); a.status == 200 {
			check(t, a, ref)
		}
	})
}

func entities(st *store.Store) apigw.Handler { return reads.Entities(st) }

// FuzzEntities: whatever the query string and External-Reference-Id of an E6 call, the answer is
// a 200 or a 4xx problem document; a 200 echoes the filter and holds at most a page of entities.
func FuzzEntities(f *testing.F) {
	fuzzRead(f, entities, "/certified-pickup/v1/entities", []querySeed{
		{"a name", "entityName=shipping", "my-ref", 200},
		{"a name in other cases, a second page of one", "ENTITYNAME=SHIPPING&page=2&pagesize=1", "", 200},
		{"every identifier", "VAT=be0403170008&EORI=BE0403170008&NxtEntityId=NXT200000001&apcsCode=ssa1", "", 200},
		{"DUNS", "DUNS=123456789", "", 200},
		{"a repeated name (the last counts)", "entityName=nothing&entityName=albert", "", 200},
		{"percent-encoding, plus and invalid escapes", "entityName=scheldt%20ship%zz+x%", "", 200},
		{"an emoji", "entityName=%F0%9F%9A%A2", "", 200},
		{"control characters", "entityName=%00%01%1b", "", 200},
		{"a page past the end", "entityName=shipping&page=99", "", 200},
		// Found by reading registry.Search while writing this target, not by the fuzzer: the
		// offset (page-1)*pageSize overflowed into a negative slice index and panicked (502).
		{"a page whose offset overflows int", "entityName=shipping&page=4611686018427387905&pageSize=2", "", 200},
		{"page 0", "entityName=shipping&page=0", "", 400},
		{"page not a number", "entityName=shipping&page=one", "", 400},
		{"page beyond int64", "entityName=shipping&page=99999999999999999999", "", 400},
		{"pageSize 101", "entityName=shipping&pageSize=101", "", 400},
		{"a name of 101 characters", "entityName=" + strings.Repeat("a", 101), "", 400},
		{"only paging", "page=1&pageSize=10", "", 400},
	}, func(t *testing.T, a answer, ref string) {
		echoes(t, a, ref)
		filter, _ := a.doc["searchFilter"].(map[string]any)
		items, _ := a.doc["phoneBookItems"].([]any)
		page, _ := filter["page"].(float64)
		size, _ := filter["pageSize"].(float64)
		rows, _ := a.doc["totalRows"].(float64)
		// The contract's page size limit, written out: the check must not move with the code's.
		if page < 1 || size < 1 || size > 100 || float64(len(items)) > size || float64(len(items)) > rows || items == nil {
			t.Fatalf("E6 answered %s", a.body)
		}
	})
}

func notifications(st *store.Store) apigw.Handler {
	return reads.Notifications(st, fixedClock, nil, slog.New(slog.NewJSONHandler(io.Discard, nil)))
}

// pageToken is the token of a position: a notification's sort key, base64url.
func pageToken(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// FuzzNotifications: whatever the query string and External-Reference-Id of an E7 call, the answer
// is a 200 or a 4xx problem document; a 200 holds only the caller's own notifications, at most a
// page of them, and a Link to the next page on the same path.
func FuzzNotifications(f *testing.F) {
	// The position of the caller's newest notification on the container: the page after it holds
	// the older one.
	newest := store.NotificationSK(clock.Add(-time.Hour), callerRef, "0")
	fuzzRead(f, notifications, "/certified-pickup/v1/notifications", []querySeed{
		{"a container", "equipmentNumber=CSQU3054383", "my-ref", 200},
		{"the caller's reference", "publicReferenceId=" + callerRef, "", 200},
		{"the caller's release in capitals", "releaseId=" + strings.ToUpper(callerRelease), "", 200},
		{"an event in lower case", "notificationEvent=transferred", "", 200},
		{"a day", "storedOn=2026-11-21", "", 200},
		{"a day as a timestamp and a window", "storedOn=2026-11-20T23:00:00%2B01:00&timeWindowFrom=08:00&timeWindowTo=08:00", "", 200},
		{"every filter", "equipmentNumber=csqu%20305438%203&publicReferenceId=" + callerRef + "&releaseId=" + callerRelease + "&notificationEvent=Transferred&storedOn=2026-11-20", "", 200},
		{"a page token inside the window", "equipmentNumber=CSQU3054383&pageToken=" + pageToken(newest), "", 200},
		{"another's reference", "publicReferenceId=" + otherRef, "", 403},
		{"an unknown reference", "publicReferenceId=00000000-0000-4000-8000-000000000001", "", 405},
		{"a day outside the 168 hours", "storedOn=2026-10-01", "", 405},
		// Found by reading the store while writing this target's fake, not by the fuzzer: both
		// made the store send DynamoDB a BETWEEN with reversed bounds, which it refuses (a 500).
		{"a reference and a day outside the 168 hours", "publicReferenceId=" + callerRef + "&storedOn=2026-10-01", "", 405},
		{"a page token older than the 168 hours", "equipmentNumber=CSQU3054383&pageToken=" + pageToken(store.NotificationSK(clock.Add(-notification.Retention-time.Hour), callerRef, "0")), "", 405},
		{"a page token that is not one", "equipmentNumber=CSQU3054383&pageToken=not-a-token", "", 400},
		{"a page token of 600 characters", "equipmentNumber=CSQU3054383&pageToken=" + strings.Repeat("A", 600), "", 400},
		{"a window backwards", "storedOn=2026-11-21&timeWindowFrom=10:00&timeWindowTo=09:59", "", 400},
		{"a window without a day", "timeWindowFrom=10:00&timeWindowTo=11:00", "", 400},
		{"an hour 24", "storedOn=2026-11-21&timeWindowFrom=24:00&timeWindowTo=24:30", "", 400},
		{"a reference that is not a GUID", "publicReferenceId=nope", "", 400},
		{"a container with a wrong check digit", "equipmentNumber=CSQU3054384", "", 400},
		{"an unknown event", "notificationEvent=Exploded", "", 400},
	}, func(t *testing.T, a answer, _ string) {
		if len(a.list) == 0 || len(a.list) > notification.MaxResults {
			t.Fatalf("E7 answered %d notifications: %s", len(a.list), a.body)
		}
		for _, n := range a.list {
			if n, _ := n.(map[string]any); n["nxtEntityId"] != callerID {
				t.Fatalf("E7 answered another's notification: %v", n)
			}
		}
		if link, ok := a.headers["Link"]; ok && (!strings.HasPrefix(link, "</certified-pickup/v1/notifications?") || !strings.HasSuffix(link, `>; rel="next"`)) {
			t.Fatalf("Link %q", link)
		}
	})
}
