package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

// The seed's parties in the gate scenarios (not entity 6: TestRateLimit spends its key's minute).
const (
	gSA       = 0 // Scheldt Shipping Agency
	gTerminal = 2 // Deurganck Container Terminal, terminal 01700
	gOtherTO  = 3 // Europa Quay Terminal, terminals 0100 and 0200
	gFwd      = 4 // Kempen Forwarding
	gTrucker  = 7 // Rhine Barge Lines (a transport operator)
	gCustoms  = 8
	gPolice   = 9
)

// gateWalk drives one container through the API and reads what each step caused from the table.
type gateWalk struct {
	t         *testing.T
	api       string
	st        *store.Store
	h         map[int]map[string]string
	container string
}

func newGateWalk(t *testing.T, api, statePath, container string) *gateWalk {
	var state localstack.State
	raw, err := os.ReadFile(statePath)
	if err == nil {
		err = json.Unmarshal(raw, &state)
	}
	if err != nil {
		t.Fatal(err)
	}
	w := &gateWalk{t: t, api: api, container: container, h: map[int]map[string]string{},
		st: store.New((&localstack.Backends{DynamoEndpoint: state.DynamoEndpoint}).DynamoDB(), state.Table)}
	for _, i := range []int{gSA, gTerminal, gOtherTO, gFwd, gTrucker, gCustoms, gPolice} {
		w.h[i] = party(t, api, i)
	}
	return w
}

func id(i int) string { return seedFile.Entities[i].NxtEntityID }

// input sends a terminal's or an authority's input on E1 and answers the status and the reference.
func (w *gateWalk) input(who int, body map[string]any) (int, string, map[string]any) {
	w.t.Helper()
	b := map[string]any{"equipmentNumber": w.container, "portLoCode": "BEANR", "terminalCode": "01700"}
	for k, v := range body {
		b[k] = v
	}
	raw, _ := json.Marshal(b)
	a := call(w.t, "POST", w.api+"/ingestion/v1/ingestion/"+seedFile.Entities[who].Credentials.IngestionID, w.h[who], string(raw))
	ref, _ := a.body["publicReferenceId"].(string)
	return a.status, ref, a.body
}

func (w *gateWalk) accepted(who int, body map[string]any) string {
	w.t.Helper()
	status, ref, ans := w.input(who, body)
	if status != 202 {
		w.t.Fatalf("%v: %d %v", body["actionType"], status, ans)
	}
	return ref
}

func (w *gateWalk) send(method, path string, who int, body any) string {
	w.t.Helper()
	raw, _ := json.Marshal(body)
	a := call(w.t, method, w.api+path, w.h[who], string(raw))
	if a.status != 202 {
		w.t.Fatalf("%s %s: %d %s", method, path, a.status, a.rawBody)
	}
	return a.body["publicReferenceId"].(string)
}

// told waits for the notifications of a reference and checks the exact set of receivers; it
// answers the first envelope of each receiver (an outcome's notifications are written together).
func (w *gateWalk) told(ref string, want ...int) map[string]notification.Envelope {
	w.t.Helper()
	got := map[string]notification.Envelope{}
	testenv.EventuallyEvery(30*time.Second, 50*time.Millisecond, func() bool {
		ns, err := w.st.NotificationsUnder(context.Background(), ref)
		if err != nil {
			return false
		}
		sort.Slice(ns, func(i, j int) bool { return ns[i].Seq < ns[j].Seq })
		for _, n := range ns {
			var env notification.Envelope
			if err := json.Unmarshal([]byte(n.Message), &env); err != nil {
				w.t.Fatal(err)
			}
			if _, ok := got[n.NxtEntityID]; !ok {
				got[n.NxtEntityID] = env
			}
		}
		return len(got) >= len(want)
	})
	var names []string
	for name := range got {
		names = append(names, name)
	}
	wantIDs := make([]string, len(want))
	for i, x := range want {
		wantIDs[i] = id(x)
	}
	sort.Strings(names)
	sort.Strings(wantIDs)
	if strings.Join(names, ",") != strings.Join(wantIDs, ",") {
		w.t.Fatalf("reference %s told %v, want %v", ref, names, wantIDs)
	}
	return got
}

// validate asks the gate; it answers the status and the answer.
func (w *gateWalk) validate(who int, body map[string]any) (int, map[string]any) {
	w.t.Helper()
	raw, _ := json.Marshal(body)
	a := call(w.t, "POST", w.api+"/certified-pickup/v1/BEANR/containers/"+w.container+"/pickup-validations", w.h[who], string(raw))
	return a.status, a.body
}

func (w *gateWalk) gate(body map[string]any, allowed bool, reasons ...string) map[string]any {
	w.t.Helper()
	status, ans := w.validate(gTerminal, body)
	got := fmt.Sprint(ans["reasons"])
	if status != 200 || ans["allowed"] != allowed || got != fmt.Sprint(toAny(reasons)) {
		w.t.Fatalf("gate %v: %d allowed=%v reasons=%s, want allowed=%v %v", body, status, ans["allowed"], got, allowed, reasons)
	}
	return ans
}

// listed asks E2 with a status filter and tells whether the container's row is in the answer.
func (w *gateWalk) listed(who int, status string) bool {
	w.t.Helper()
	a := call(w.t, "GET", w.api+"/certified-pickup/v1/BEANR/containers/import/release-rights?pageSize=100&status="+status, w.h[who], "")
	if a.status != 200 {
		w.t.Fatalf("E2: %d %s", a.status, a.rawBody)
	}
	return strings.Contains(string(w.told(a.body["publicReferenceId"].(string), who)[id(who)].Body.Extra), w.container)
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func ago(d time.Duration) string { return time.Now().UTC().Add(-d).Format(time.RFC3339Nano) }

func partyRef(i int) map[string]string {
	return map[string]string{"identificationType": "NxtEntityId", "identificationCode": id(i)}
}

// TestContainerFromDischargeToGateOut walks one container through contract §10: inputs before the
// release, the chain to a transport operator, assignment with its PIN, the gate refusing with the
// exact reasons while a light is red, five wrong PINs locking, a green gate, gate-out archiving the
// right, and who is told at every step.
//
// On the isolated stack, one test at a time: the walk notifies most of the seed's entities, whose
// channels the parallel channel tests count deliveries on.
func TestContainerFromDischargeToGateOut(t *testing.T) {
	s := isolatedStack(t)
	api := s.api
	w := newGateWalk(t, api, s.state, release.WithCheckDigit(fmt.Sprintf("GATU%06d", time.Now().UnixNano()%1_000_000)))

	// Bad input: nothing accepted.
	for name, tc := range map[string]struct {
		who    int
		body   map[string]any
		status int
	}{
		"terminal not operated": {gOtherTO, map[string]any{"actionType": "Discharge", "eventDateTimeUtc": ago(time.Hour)}, 401},
		"authority on terminal": {gCustoms, map[string]any{"actionType": "Discharge", "eventDateTimeUtc": ago(time.Hour)}, 401},
		"terminal on customs":   {gTerminal, map[string]any{"actionType": "CustomsRelease", "eventDateTimeUtc": ago(time.Hour)}, 401},
		"agent on customs":      {gSA, map[string]any{"actionType": "CustomsRelease", "eventDateTimeUtc": ago(time.Hour)}, 401},
		"future":                {gTerminal, map[string]any{"actionType": "Discharge", "eventDateTimeUtc": ago(-time.Hour)}, 400},
		"not UTC":               {gTerminal, map[string]any{"actionType": "Discharge", "eventDateTimeUtc": "2026-11-21T08:00:00+01:00"}, 400},
		"no time":               {gTerminal, map[string]any{"actionType": "Discharge"}, 400},
		"block without reason":  {gTerminal, map[string]any{"actionType": "TerminalBlock", "eventDateTimeUtc": ago(time.Hour)}, 400},
		"gate-out without who":  {gTerminal, map[string]any{"actionType": "GateOut", "eventDateTimeUtc": ago(time.Hour)}, 400},
	} {
		if status, _, ans := w.input(tc.who, tc.body); status != tc.status {
			t.Errorf("%s: %d %v, want %d", name, status, ans, tc.status)
		}
	}
	if status, _ := w.validate(gTerminal, map[string]any{"pickupPin": "12345"}); status != 400 {
		t.Errorf("a PIN of five digits: %d", status)
	}
	// Before a release: the sender alone hears; the gate has nothing to allow.
	env := w.told(w.accepted(gTerminal, map[string]any{"actionType": "Discharge", "eventDateTimeUtc": ago(3 * time.Hour)}), gTerminal)
	if b := env[id(gTerminal)].Body; b.GreenLightName != "Discharge" || b.OriginalValue != "NO" || b.NewValue != "YES" {
		t.Fatalf("discharge outcome: %+v", b)
	}
	w.told(w.accepted(gCustoms, map[string]any{"actionType": "CustomsHold", "reason": "selected for scan", "eventDateTimeUtc": ago(150 * time.Minute)}), gCustoms)
	w.gate(map[string]any{}, false, "Release: no active release")
	if status, _ := w.validate(gOtherTO, map[string]any{}); status != 401 {
		t.Fatalf("another terminal's gate: %d", status)
	}

	// The release, to the forwarder: it starts with the lights the inputs set.
	rel := map[string]any{"actionType": "Release", "releaseIdentification": "GATE-1", "equipmentNumber": w.container, "billOfLadingNumbers": []string{"BLGATE"},
		"portLoCode": "BEANR", "terminalCode": "01700", "isCarrierHaulage": false, "releaseDateTimeUtc": ago(2 * time.Hour),
		"expirationDateTimeUtc": ago(-48 * time.Hour), "carrier": partyRef(gSA), "releaseTo": partyRef(gFwd)}
	ref := w.accepted(gSA, rel)
	env = w.told(ref, gSA, gTerminal, gFwd)
	if b := env[id(gSA)].Body; b.Lights[release.LightDischarge] != "YES" || b.Lights[release.LightCustoms] != "HOLD" || b.PickupReady == nil || *b.PickupReady {
		t.Fatalf("release body: %+v", b)
	}
	right := func(from, to int) map[string]any {
		return map[string]any{"releaseIdentification": "GATE-1", "equipmentNumber": w.container, "billOfLadingNumbers": []string{"BLGATE"}, "terminalCode": "01700",
			"releaseFrom": partyRef(from), "releaseTo": partyRef(to)}
	}
	bulk := "/certified-pickup/v1/BEANR/containers/import/release-rights"
	w.told(w.send("PUT", bulk, gFwd, map[string]any{"portLoCode": "BEANR", "actionType": "Accept", "releaseRights": []any{right(gSA, gFwd)}}), gSA, gFwd)
	transfer := right(gFwd, gTrucker)
	transfer["actionType"], transfer["portLoCode"] = "Transfer", "BEANR"
	one := "/certified-pickup/v1/BEANR/containers/" + w.container + "/import/release-rights"
	w.told(w.send("PUT", one, gFwd, transfer), gSA, gFwd, gTrucker)
	assignPath := one + "/assignment"
	assign := map[string]any{"billOfLadingNumbers": []string{"BLGATE"}, "releaseIdentification": "GATE-1", "assignTo": map[string]any{"type": "Truck", "licensePlate": "1-ABC-123"}}
	// Not yet accepted: NotValidated, to the caller alone.
	env = w.told(w.send("PUT", assignPath, gTrucker, assign), gTrucker)
	if env[id(gTrucker)].Event != release.EventNotValidated {
		t.Fatalf("assign before accept: %+v", env[id(gTrucker)])
	}
	w.told(w.send("PUT", bulk, gTrucker, map[string]any{"portLoCode": "BEANR", "actionType": "Accept", "releaseRights": []any{right(gFwd, gTrucker)}}), gSA, gFwd, gTrucker)
	// The forwarder no longer holds it: its assignment is refused.
	if e := w.told(w.send("PUT", assignPath, gFwd, assign), gFwd)[id(gFwd)]; e.Event != release.EventNotValidated {
		t.Fatalf("the forwarder's assignment: %+v", e)
	}

	// The holder assigns: the PIN goes to it alone.
	// The PIN is stored sealed; E7 opens it for the holder.
	pinOf := func(ref string) string {
		stored := w.told(ref, gTrucker)[id(gTrucker)]
		if stored.Body.ActionType != "Assign" || !strings.HasPrefix(stored.Body.PickupPin, "sealed:") {
			t.Fatalf("assign outcome as stored: %+v", stored)
		}
		a := call(t, "GET", api+"/certified-pickup/v1/notifications?publicReferenceId="+ref, w.h[gTrucker], "")
		var items []notification.Notification
		var env notification.Envelope
		if a.status != 200 || json.Unmarshal(a.rawBody, &items) != nil || len(items) != 1 || json.Unmarshal([]byte(items[0].Message), &env) != nil {
			t.Fatalf("E7 of the assign: %d %s", a.status, a.rawBody)
		}
		if pin := env.Body.PickupPin; len(pin) != 6 || strings.Trim(pin, "0123456789") != "" {
			t.Fatalf("assign outcome through E7: %+v", env)
		}
		return env.Body.PickupPin
	}
	pin := pinOf(w.send("PUT", assignPath, gTrucker, assign))
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, pin)+1)%1_000_000)
	w.gate(map[string]any{"pickupPin": pin}, false, "Customs: HOLD", "TerminalRelease: UNKNOWN")
	// E2's status 2 (customs or police not OK) and 3 (terminal not OK) list it now.
	for _, status := range []string{"2", "3"} {
		if !w.listed(gTrucker, status) {
			t.Fatalf("E2 status %s does not list the held container", status)
		}
	}
	// Another terminal's input for the container is refused: it is released at 01700.
	other := w.accepted(gOtherTO, map[string]any{"actionType": "TerminalRelease", "terminalCode": "0100", "eventDateTimeUtc": ago(110 * time.Minute)})
	if e := w.told(other, gOtherTO)[id(gOtherTO)]; e.Event != release.EventNotValidated {
		t.Fatalf("another terminal's input: %+v", e)
	}

	// Customs clears it: the agent, the terminal and the holder hear (and the sender).
	env = w.told(w.accepted(gCustoms, map[string]any{"actionType": "CustomsRelease", "eventDateTimeUtc": ago(100 * time.Minute)}), gCustoms, gSA, gTerminal, gTrucker)
	if b := env[id(gTrucker)].Body; b.GreenLightName != "Customs" || b.OriginalValue != "HOLD" || b.NewValue != "OK" || env[id(gTrucker)].Type != "ReleaseLight" {
		t.Fatalf("customs release: %+v", env[id(gTrucker)])
	}
	// An older hold arrives late: kept in history, no light changes, only its sender hears.
	env = w.told(w.accepted(gCustoms, map[string]any{"actionType": "CustomsHold", "reason": "late", "eventDateTimeUtc": ago(140 * time.Minute)}), gCustoms)
	if len(env[id(gCustoms)].Warnings) == 0 {
		t.Fatalf("late hold: no warning: %+v", env[id(gCustoms)])
	}
	w.told(w.accepted(gPolice, map[string]any{"actionType": "PoliceBlock", "reason": "investigation", "eventDateTimeUtc": ago(90 * time.Minute)}), gPolice, gSA, gTerminal, gTrucker)
	w.gate(map[string]any{"pickupPin": pin}, false, "Police: BLOCKED", "TerminalRelease: UNKNOWN")
	w.told(w.accepted(gPolice, map[string]any{"actionType": "PoliceUnblock", "eventDateTimeUtc": ago(80 * time.Minute)}), gPolice, gSA, gTerminal, gTrucker)
	// An authority reads the release of any container of the port (E5), lights included.
	a := call(t, "GET", api+"/certified-pickup/v1/BEANR/containers/import/release-rights/"+w.container, w.h[gCustoms], "")
	if e := w.told(a.body["publicReferenceId"].(string), gCustoms)[id(gCustoms)]; !strings.Contains(string(e.Body.Extra), `"Customs":"OK"`) ||
		!strings.Contains(string(e.Body.Extra), "GATE-1") {
		t.Fatalf("authority's E5: %s %v", e.Body.Extra, e.Errors)
	}
	w.told(w.accepted(gTerminal, map[string]any{"actionType": "TerminalBlock", "reason": "unpaid storage", "eventDateTimeUtc": ago(70 * time.Minute)}), gSA, gTerminal, gTrucker)
	w.gate(map[string]any{"pickupPin": pin}, false, "TerminalRelease: BLOCKED")
	w.told(w.accepted(gTerminal, map[string]any{"actionType": "TerminalRelease", "eventDateTimeUtc": ago(60 * time.Minute)}), gSA, gTerminal, gTrucker)

	// While assigned, the holder cannot pass the right on.
	onward := right(gTrucker, gFwd)
	onward["actionType"], onward["portLoCode"] = "Transfer", "BEANR"
	if env := w.told(w.send("PUT", one, gTrucker, onward), gTrucker); env[id(gTrucker)].Event != release.EventNotValidated {
		t.Fatalf("transfer while assigned: %+v", env[id(gTrucker)])
	}

	// All green: an identifier that does not match and four wrong PINs are five failures, which
	// lock the PIN.
	w.gate(map[string]any{"pickupPin": pin, "licensePlate": "9-ZZZ-999"}, false, "Assignment: licensePlate does not match")
	for i := 0; i < 4; i++ {
		w.gate(map[string]any{"pickupPin": wrong}, false, "Pin: mismatch")
	}
	w.gate(map[string]any{"pickupPin": pin}, false, "Pin: locked after repeated failures; the transport operator must assign again")
	// A new assignment issues a new PIN and clears the lock.
	pin = pinOf(w.send("PUT", assignPath, gTrucker, assign))
	ans := w.gate(map[string]any{"pickupPin": pin, "licensePlate": "1 abc 123"}, true)
	if ans["holder"].(map[string]any)["nxtEntityId"] != id(gTrucker) || ans["assignment"].(map[string]any)["licensePlate"] != "1-ABC-123" {
		t.Fatalf("gate answer: %v", ans)
	}
	// Every validation is kept (the refused ones before the release too; bad input is not one).
	recs, err := w.st.Validations(context.Background(), "BEANR", w.container)
	if err != nil || len(recs) != 11 || !recs[len(recs)-1].Allowed {
		t.Fatalf("validations kept: %d %v", len(recs), err)
	}

	// All green: E2's status 2 and 3 no longer list it.
	for _, status := range []string{"2", "3"} {
		if w.listed(gTrucker, status) {
			t.Fatalf("E2 status %s lists a container whose lights are green", status)
		}
	}

	// Gate-out by the assigned holder: the whole chain hears, no warning; the right is archived.
	env = w.told(w.accepted(gTerminal, map[string]any{"actionType": "GateOut", "eventDateTimeUtc": ago(time.Minute), "pickedUpBy": partyRef(gTrucker), "licensePlate": "1-ABC-123"}),
		gTerminal, gSA, gFwd, gTrucker)
	for who, e := range env {
		if e.Type != release.TypeTerminalEvent || e.Event != release.EventGateOut || slices.Contains(e.Warnings, release.WarnUnauthorisedPick) {
			t.Fatalf("gate-out to %s: %+v", who, e)
		}
		if e.Body.ReleaseRight == nil || e.Body.ReleaseRight.Status != release.StatusArchived {
			t.Fatalf("gate-out to %s: right %+v", who, e.Body.ReleaseRight)
		}
	}
	w.gate(map[string]any{"pickupPin": pin}, false, "Release: no active release")
	// Later actions on it: NotValidated.
	update := map[string]any{}
	for k, v := range rel {
		update[k] = v
	}
	update["actionType"] = "Update"
	delete(update, "releaseTo")
	for who, ref := range map[int]string{
		gSA:      w.accepted(gSA, update),
		gTrucker: w.send("PUT", one, gTrucker, onward),
		gFwd:     w.send("PUT", bulk, gFwd, map[string]any{"portLoCode": "BEANR", "actionType": "Accept", "releaseRights": []any{right(gTrucker, gFwd)}}),
	} {
		if e := w.told(ref, who)[id(who)]; e.Event != release.EventNotValidated {
			t.Fatalf("after gate-out, %s's action: %+v", id(who), e)
		}
	}
}

// TestUnauthorisedPickup: a gate-out with no assignment is applied all the same, and the agent and
// the holder are warned.
func TestUnauthorisedPickup(t *testing.T) {
	s := isolatedStack(t)
	api := s.api
	w := newGateWalk(t, api, s.state, release.WithCheckDigit(fmt.Sprintf("UNAU%06d", time.Now().UnixNano()%1_000_000)))
	rel := map[string]any{"actionType": "Release", "releaseIdentification": "UNAUTH-1", "equipmentNumber": w.container, "billOfLadingNumbers": []string{"BLUNAUTH"},
		"portLoCode": "BEANR", "terminalCode": "01700", "isCarrierHaulage": false, "releaseDateTimeUtc": ago(2 * time.Hour), "carrier": partyRef(gSA), "releaseTo": partyRef(gFwd)}
	w.told(w.accepted(gSA, rel), gSA, gTerminal, gFwd)
	env := w.told(w.accepted(gTerminal, map[string]any{"actionType": "GateOut", "eventDateTimeUtc": ago(time.Minute), "pickedUpBy": partyRef(gTrucker)}), gTerminal, gSA, gFwd)
	for who, e := range env {
		warned := slices.Contains(e.Warnings, release.WarnUnauthorisedPick)
		if e.Event != release.EventGateOut || warned != (who == id(gSA)) {
			t.Fatalf("gate-out to %s: %+v", who, e)
		}
	}
	// The container is gone: a later input for an older time changes nothing.
	env = w.told(w.accepted(gCustoms, map[string]any{"actionType": "CustomsBlock", "reason": "late", "eventDateTimeUtc": ago(10 * time.Minute)}), gCustoms)
	if len(env[id(gCustoms)].Warnings) == 0 {
		t.Fatalf("input before the gate-out: %+v", env[id(gCustoms)])
	}
}

func mustAtoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}
