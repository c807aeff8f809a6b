package pipeline_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
)

type e7answer struct {
	status int
	items  []map[string]any
	doc    map[string]any
	header map[string]string
}

func (h *harness) read(caller string, query map[string]string) e7answer {
	h.t.Helper()
	resp, err := apigw.Lambda(h.e7, quiet)(context.Background(), proxy("GET", nil, query, nil, caller, []entity.Role{entity.ShippingAgent}, ""))
	if err != nil {
		h.t.Fatal(err)
	}
	a := e7answer{status: resp.StatusCode, header: resp.Headers}
	if resp.StatusCode == 200 {
		json.Unmarshal([]byte(resp.Body), &a.items)
	} else {
		json.Unmarshal([]byte(resp.Body), &a.doc)
	}
	return a
}

func TestNotificationsAPI(t *testing.T) {
	h := newHarness(t)
	release := h.sa(body("Release", nil))
	h.sent(release, 2)
	h.setClock(h.clock().Add(3 * time.Hour)) // 11:00
	block := h.sa(body("Block", nil))
	h.sent(block, 2)
	var releaseID string
	{
		a := h.read(sa1, map[string]string{"publicReferenceId": release})
		releaseID = a.items[0]["releaseId"].(string)
	}

	count := func(name string, caller string, q map[string]string, want int) e7answer {
		t.Helper()
		a := h.read(caller, q)
		if a.status != 200 || len(a.items) != want {
			t.Errorf("%s: status %d, %d items, want %d: %v", name, a.status, len(a.items), want, a.doc)
		}
		return a
	}
	a := count("by container", sa1, map[string]string{"equipmentNumber": "CSQU3054383"}, 2)
	if len(a.items) == 2 && a.items[0]["publicReferenceId"] != block {
		t.Error("not newest first")
	}
	for _, it := range a.items {
		for _, k := range []string{"nxtEntityId", "equipmentNumber", "publicReferenceId", "releaseId", "externalReferenceId", "storedOn", "message", "type", "event"} {
			if _, ok := it[k]; !ok {
				t.Errorf("item lacks %s", k)
			}
		}
		var env map[string]any
		if json.Unmarshal([]byte(it["message"].(string)), &env) != nil || env["receiverId"] != sa1 {
			t.Errorf("message is not the envelope: %v", it["message"])
		}
	}
	count("by event", sa1, map[string]string{"notificationEvent": "releaselightchanged"}, 2)
	count("event AND container", top, map[string]string{"notificationEvent": "ReleaseLightChanged", "equipmentNumber": "CSQU3054383"}, 2)
	count("by reference", sa1, map[string]string{"publicReferenceId": block}, 1)
	count("by release id", top, map[string]string{"releaseId": releaseID}, 2)
	count("release id AND event", top, map[string]string{"releaseId": releaseID, "notificationEvent": "ReleaseLightChanged"}, 2)
	count("by day", sa1, map[string]string{"storedOn": "2026-11-21"}, 2)
	count("by timestamp's day", sa1, map[string]string{"storedOn": "2026-11-21T23:59:00Z"}, 2)
	count("time window", sa1, map[string]string{"storedOn": "2026-11-21", "timeWindowFrom": "10:30", "timeWindowTo": "11:00"}, 1)
	count("window to the minute", sa1, map[string]string{"storedOn": "2026-11-21", "timeWindowFrom": "08:00", "timeWindowTo": "08:00"}, 1)

	// 405 when nothing matches; 403 when the reference exists but was not sent to the caller.
	for name, q := range map[string]map[string]string{
		"other container": {"equipmentNumber": "CAIU7654324"},
		"other day":       {"storedOn": "2026-11-20"},
		"other event":     {"notificationEvent": "GateOut"},
		"empty window":    {"storedOn": "2026-11-21", "timeWindowFrom": "12:00", "timeWindowTo": "13:00"},
		"unknown ref":     {"publicReferenceId": "00000000-0000-4000-8000-000000000001"},
	} {
		if a := h.read(sa1, q); a.status != 405 {
			t.Errorf("%s: %d", name, a.status)
		}
	}
	for name, q := range map[string]map[string]string{
		"someone else's reference":  {"publicReferenceId": block},
		"someone else's release id": {"releaseId": releaseID},
	} {
		if a := h.read(rp, q); a.status != 403 || a.header["WWW-Authenticate"] != `Bearer error="invalid_token"` {
			t.Errorf("%s: %d %v", name, a.status, a.header)
		}
	}
	for name, q := range map[string]map[string]string{
		"no filter":          {},
		"bad event":          {"notificationEvent": "Exploded"},
		"bad container":      {"equipmentNumber": "CAIU7654321"},
		"bad guid":           {"publicReferenceId": "nope"},
		"bad day":            {"storedOn": "21/11/2026"},
		"half a window":      {"storedOn": "2026-11-21", "timeWindowFrom": "10:00"},
		"window backwards":   {"storedOn": "2026-11-21", "timeWindowFrom": "10:00", "timeWindowTo": "09:59"},
		"window without day": {"timeWindowFrom": "10:00", "timeWindowTo": "11:00"},
		"bad time":           {"storedOn": "2026-11-21", "timeWindowFrom": "25:00", "timeWindowTo": "26:00"},
	} {
		if a := h.read(sa1, q); a.status != 400 || a.doc["errors"] == nil {
			t.Errorf("%s: %d %v", name, a.status, a.doc)
		}
	}
}

// TestRetentionIs168Hours: a notification is readable until 168 hours after it was stored and
// never after, even while TTL has not removed it yet.
func TestRetentionIs168Hours(t *testing.T) {
	h := newHarness(t)
	ref := h.sa(body("Release", nil)) // stored at 08:00
	h.sent(ref, 2)
	stored := h.clock()
	q := map[string]string{"equipmentNumber": "CSQU3054383"}
	h.setClock(stored.Add(168*time.Hour - time.Second))
	if a := h.read(sa1, q); a.status != 200 || len(a.items) != 1 {
		t.Fatalf("just inside 168 h: %d %d", a.status, len(a.items))
	}
	if a := h.read(sa1, map[string]string{"publicReferenceId": ref}); a.status != 200 {
		t.Fatalf("by reference inside 168 h: %d", a.status)
	}
	h.setClock(stored.Add(168*time.Hour + time.Second))
	for _, q := range []map[string]string{q, {"publicReferenceId": ref}, {"storedOn": "2026-11-21"}} {
		if a := h.read(sa1, q); a.status != 405 {
			t.Fatalf("past 168 h (%v): %d", q, a.status)
		}
	}
}
