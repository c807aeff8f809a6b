package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/reads"
	"github.com/portcommunity/cpu/shared/release"
)

type e7answer struct {
	status int
	items  []map[string]any
	doc    map[string]any
	header map[string]string
	// payload is the size of the answer as Lambda returns it (the proxy response as JSON).
	payload int
}

func (h *harness) read(caller string, query map[string]string) e7answer {
	h.t.Helper()
	return h.readWith(h.invoke, caller, query)
}

func (h *harness) readWith(invoke func(apigw.Handler, string, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error),
	caller string, query map[string]string) e7answer {
	h.t.Helper()
	resp, err := invoke(h.e7, "/certified-pickup/v1/notifications", proxy("GET", nil, query, nil, caller, []entity.Role{entity.ShippingAgent}, ""))
	if err != nil {
		h.t.Fatal(err)
	}
	raw, _ := json.Marshal(resp)
	a := e7answer{status: resp.StatusCode, header: resp.Headers, payload: len(raw)}
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
	count("by event", sa1, map[string]string{"notificationEvent": "ReleaseLightChanged"}, 2)
	// The API matches event names in any case; the document spells them one way.
	if a := h.readWith(h.invokeLenient, sa1, map[string]string{"notificationEvent": "releaselightchanged"}); a.status != 200 || len(a.items) != 2 {
		t.Errorf("event in lower case: %d %d", a.status, len(a.items))
	}
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
	// The caller's own reference or release with another filter that excludes it: nothing
	// matches (405), it is not "not yours" (403).
	for name, q := range map[string]map[string]string{
		"own reference, other event": {"publicReferenceId": block, "notificationEvent": "Transferred"},
		"own release, other event":   {"releaseId": releaseID, "notificationEvent": "GateOut"},
	} {
		if a := h.read(top, q); a.status != 405 {
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

// TestNotificationsAtVolume: a receiver with 10,000 notifications in the 168 hours finds every
// match of a filter, whether the match is the newest or 167 hours old, and pages through a filter
// that matches thousands, newest first, without losing or repeating one.
func TestNotificationsAtVolume(t *testing.T) {
	h := newVolumeHarness(t)
	ctx := context.Background()
	now := h.clock()
	var ns []notification.Notification
	add := func(at time.Time, container, event string) {
		ns = append(ns, stored(top, fmt.Sprintf("00000000-0000-4000-8000-%012d", len(ns)), container, event, at, nil))
	}
	add(now.Add(-167*time.Hour-59*time.Minute), "CSQU3054383", "Update") // the oldest still inside 168 h
	for i := 0; i < 9998; i++ {
		event := "ReleaseLightChanged"
		if i%4 == 0 {
			event = "Transferred"
		}
		add(now.Add(-167*time.Hour+time.Duration(i)*time.Minute), "CAIU7654324", event)
	}
	add(now, "CSQU3054383", "Update")                     // the newest
	add(now.Add(-169*time.Hour), "CSQU3054383", "Update") // older than 168 h, not yet removed by TTL
	if err := h.st.PutNotifications(ctx, ns); err != nil {
		t.Fatal(err)
	}
	a := h.read(top, map[string]string{"equipmentNumber": "CSQU3054383"})
	if a.status != 200 || len(a.items) != 2 || a.items[0]["publicReferenceId"] != "00000000-0000-4000-8000-000000009999" || a.items[1]["publicReferenceId"] != "00000000-0000-4000-8000-000000000000" {
		t.Fatalf("both ends of the 168 hours: %d %d items", a.status, len(a.items))
	}
	if a := h.read(top, map[string]string{"equipmentNumber": "CSQU3054383", "notificationEvent": "Update", "releaseId": "11111111-0000-4000-8000-000000000001"}); a.status != 200 || len(a.items) != 2 {
		t.Fatalf("container, event and release together: %d %d", a.status, len(a.items))
	}
	// 2,500 Transferred: three pages, each following the Link of the one before.
	var refs []string
	q := map[string]string{"notificationEvent": "Transferred"}
	for pages := 0; ; pages++ {
		a := h.read(top, q)
		if a.status != 200 || len(a.items) == 0 {
			t.Fatalf("page %d: %d", pages, a.status)
		}
		for _, it := range a.items {
			refs = append(refs, it["publicReferenceId"].(string))
		}
		link := a.header["Link"]
		if link == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		if len(a.items) != notification.MaxResults {
			t.Errorf("page %d holds %d, want %d", pages, len(a.items), notification.MaxResults)
		}
		u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`))
		if err != nil || u.Query().Get("notificationEvent") != "Transferred" {
			t.Fatalf("link %q", link)
		}
		// Relative to the URL called, so that it keeps the stage API Gateway strips from the path
		// the function sees.
		called, _ := url.Parse("https://api.example/staging/certified-pickup/v1/notifications?notificationEvent=Transferred")
		if next := called.ResolveReference(u); next.Path != "/staging/certified-pickup/v1/notifications" || !strings.HasPrefix(link, "<?") {
			t.Fatalf("link %q resolves to %s", link, next)
		}
		q = map[string]string{"notificationEvent": "Transferred", "pageToken": u.Query().Get("pageToken")}
	}
	if len(refs) != 2500 {
		t.Fatalf("%d Transferred notifications over the pages, want 2500", len(refs))
	}
	seen := map[string]bool{}
	for i, r := range refs {
		if seen[r] || (i > 0 && r > refs[i-1]) { // references grow with time here: newest first is descending
			t.Fatalf("page order broken at %d (%s after %s)", i, r, refs[i-1])
		}
		seen[r] = true
	}
	if a := h.read(top, map[string]string{"notificationEvent": "Transferred", "pageToken": "not-a-token"}); a.status != 400 || a.doc["errors"].(map[string]any)["pageToken"] == nil {
		t.Fatalf("forged token: %d %v", a.status, a.doc)
	}
}

// TestAnswersStayInsideTheResponseLimit: however large the messages, and however much their text
// grows when escaped (quotes, backslashes and "<" grow several times over, twice), every page of E7
// fits Lambda's 6 MB response limit as Lambda returns it, and the pages together hold everything.
func TestAnswersStayInsideTheResponseLimit(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// An E2 answer of 100 rows, as the notification that carries it.
	page := reads.Page{Page: 1, PageSize: 100, TotalRows: 10000, TotalPages: 100}
	for i := 0; i < 100; i++ {
		c := release.WithCheckDigit(fmt.Sprintf("PAGU%06d", i))
		at := h.clock()
		page.Items = append(page.Items, reads.Item{ReleaseID: uuid.NewString(), PortLoCode: "BEANR", EquipmentNumber: c, BillOfLadingNumbers: []string{"BL" + c},
			ReleaseIdentification: "R-" + c, TerminalCode: "01700", ShippingAgent: reads.Party{NxtEntityID: sa1, Name: "Scheldt Shipping Agency", TIN: "BE0403170008"},
			Terminal: reads.Party{NxtEntityID: top, Name: "Deurganck Container Terminal", TIN: "BE0403170701"}, CurrentStakeholder: reads.Party{NxtEntityID: rp, Name: "Kempen Forwarding", TIN: "BE0403170799"},
			ReleaseRightStatus: 1, Lights: release.StartingLights().View("OK"), ReleaseDateTimeUtc: &at, ExpirationDateTimeUtc: &at})
	}
	result, _ := json.Marshal(page)
	var ns []notification.Notification
	for i := 0; i < 120; i++ {
		ns = append(ns, stored(rp, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "CSQU3054383", "Update", h.clock().Add(-time.Duration(i)*time.Second), result))
	}
	if len(ns[0].Message) < 60<<10 {
		t.Fatalf("an E2 answer of 100 rows is %d bytes", len(ns[0].Message))
	}
	// Releases whose 50 B/L numbers are 35 quotes, backslashes and "<" each (the limits allow any
	// text without control characters), as 1,000 Block notifications to the terminal.
	var bls []string
	for i := 0; i < release.MaxBillsOfLading; i++ {
		bls = append(bls, fmt.Sprintf("%02d", i)+strings.Repeat(`"\<`, 11))
	}
	for i := 0; i < 1000; i++ {
		n := stored(top, fmt.Sprintf("00000000-0000-4000-9000-%012d", i), "CAIU7654324", release.EventLightChanged, h.clock().Add(-time.Duration(i)*time.Second), nil)
		var env notification.Envelope
		json.Unmarshal([]byte(n.Message), &env)
		env.Body.BillOfLadingNumbers = bls
		msg, _ := json.Marshal(env)
		n.Message = string(msg)
		ns = append(ns, n)
	}
	if err := h.st.PutNotifications(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		receiver, container string
		want                int
	}{{rp, "CSQU3054383", 120}, {top, "CAIU7654324", 1000}} {
		total, pages := 0, 0
		q := map[string]string{"equipmentNumber": c.container}
		for ; ; pages++ {
			a := h.read(c.receiver, q)
			if a.status != 200 || a.payload > 6<<20 {
				t.Fatalf("%s page %d: status %d, %d bytes as Lambda returns it", c.container, pages, a.status, a.payload)
			}
			total += len(a.items)
			if a.header["Link"] == "" {
				break
			}
			u, _ := url.Parse(strings.TrimSuffix(strings.TrimPrefix(a.header["Link"], "<"), `>; rel="next"`))
			q = map[string]string{"equipmentNumber": c.container, "pageToken": u.Query().Get("pageToken")}
		}
		if total != c.want || pages == 0 {
			t.Fatalf("%s: %d notifications over %d pages, want %d over several", c.container, total, pages+1, c.want)
		}
	}
}

// stored makes the notification an outcome gives one receiver, as the notifier stores it: a real
// envelope (E7's answers are checked against the document), with an async read's result when
// given one.
func stored(receiver, ref, container, event string, at time.Time, result json.RawMessage) notification.Notification {
	typ, action := release.TypeReleaseLight, string(release.ActBlock)
	switch event {
	case release.EventTransferred:
		typ, action = release.TypeReleaseRight, string(release.ActTransfer)
	case release.EventUpdate:
		action = string(release.ActUpdate)
		if result != nil {
			typ, action = release.TypeReleaseRight, ""
		}
	}
	o := release.Outcome{PublicReferenceID: ref, Requester: sa1, Action: release.ActBlock, At: at, Applied: true,
		Notices:   []release.Notice{{Type: typ, Event: event, ActionType: action, Recipients: []string{receiver}}},
		ReleaseID: "11111111-0000-4000-8000-000000000001", PortLoCode: "BEANR", EquipmentNumber: container, BillOfLadingNumbers: []string{"BL1"},
		ReleaseIdentification: "REL-1", TerminalCode: "01700", Light: release.LightOK, OriginalLight: release.LightOK, Holder: sa1,
		RightStatus: release.StatusAssigned, Version: 2, Errors: []string{}, Warnings: []string{}, Result: result}
	if result != nil {
		o.ReleaseID, o.BillOfLadingNumbers, o.ReleaseIdentification, o.TerminalCode, o.Holder, o.Light, o.OriginalLight = "", nil, "", "", "", "", ""
	}
	return notification.Build(o)[0]
}
