package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/onboarding"
	"github.com/portcommunity/cpu/shared/store"
)

// mailbox reads the SES stand-in's messages to one address through /_local/mail, newest first.
func mailbox(t *testing.T, api, to string) []localstack.SentMail {
	t.Helper()
	resp, err := http.Get(api + "/_local/mail?" + url.Values{"to": {to}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []localstack.SentMail
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// awaitMail waits for the n-th message to an address and answers it.
func awaitMail(t *testing.T, api, to string, n int) localstack.SentMail {
	t.Helper()
	var got []localstack.SentMail
	if !testenv.EventuallyEvery(20*time.Second, 50*time.Millisecond, func() bool { got = mailbox(t, api, to); return len(got) >= n }) {
		t.Fatalf("%s received %d messages, want %d", to, len(got), n)
	}
	return got[0]
}

var (
	codePattern = regexp.MustCompile(`console is ([0-9]{6})`)
	linkPattern = regexp.MustCompile(`(http://\S+/console/#/\S+)`)
)

func jsonBody(v any) string { raw, _ := json.Marshal(v); return string(raw) }

// signIn walks both steps, reading the code from the e-mail; it answers the session token.
func signIn(t *testing.T, api, email, password string, mailsBefore int) string {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	a := call(t, "POST", api+"/onboarding/v1/sign-in", h, jsonBody(map[string]string{"email": email, "password": password}))
	if a.status != 202 {
		t.Fatalf("sign-in: %d %s", a.status, a.rawBody)
	}
	m := awaitMail(t, api, email, mailsBefore+1)
	code := codePattern.FindStringSubmatch(m.Text)
	if code == nil || m.Text == "" || m.HTML == "" {
		t.Fatalf("code mail: %+v", m)
	}
	b := call(t, "POST", api+"/onboarding/v1/sign-in/"+a.body["challengeId"].(string), h, jsonBody(map[string]string{"code": code[1]}))
	if b.status != 200 || b.body["tokenType"] != "Bearer" {
		t.Fatalf("code: %d %s", b.status, b.rawBody)
	}
	// The code works once.
	if c := call(t, "POST", api+"/onboarding/v1/sign-in/"+a.body["challengeId"].(string), h, jsonBody(map[string]string{"code": code[1]})); c.status != 401 {
		t.Fatalf("the code worked twice: %d", c.status)
	}
	return b.body["accessToken"].(string)
}

// TestRegistrationFromInvitationToApproval walks contract §11 through the local stack, reading every
// link and code from the e-mails the SES stand-in received, as a person would.
func TestRegistrationFromInvitationToApproval(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	seedAdmin := seedFile.People[0]
	stamp := time.Now().UnixNano() % 1_000_000_00
	newAdmin := fmt.Sprintf("anna.%d@forwarding.example", stamp)
	vat := fmt.Sprintf("BE0%08d", stamp%100_000_000)
	vat = vat[:10] + fmt.Sprintf("%02d", 97-mustAtoi(t, vat[2:10])%97)
	if !entity.ValidBelgianVAT(vat) {
		t.Fatalf("test VAT %s", vat)
	}
	plain := map[string]string{"Content-Type": "application/json"}

	// Enumeration resistance: an unknown address and a wrong password answer like a right one, and
	// no code goes out.
	for _, creds := range []map[string]string{{"email": "nobody@nowhere.example", "password": "whatever it is, long enough"},
		{"email": seedAdmin.Email, "password": "not the right passphrase at all"}} {
		a := call(t, "POST", api+"/onboarding/v1/sign-in", plain, jsonBody(creds))
		if a.status != 202 || a.body["challengeId"] == nil || a.body["expiresInSeconds"] != 600.0 {
			t.Fatalf("sign-in with %v: %d %s", creds, a.status, a.rawBody)
		}
	}
	before := len(mailbox(t, api, seedAdmin.Email))
	community := signIn(t, api, seedAdmin.Email, seedAdmin.Password, before)
	console := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + community}

	// A console token is not an API token, and an API token not a console session.
	if a := call(t, "GET", api+"/certified-pickup/v1/entities?entityName=x", map[string]string{"Authorization": "Bearer " + community,
		"Ocp-Apim-Subscription-Key": seedFile.Entities[0].Credentials.SubscriptionKey}, ""); a.status != 401 {
		t.Fatalf("a console token on the API: %d", a.status)
	}
	if a := call(t, "GET", api+"/onboarding/v1/memberships", map[string]string{"Authorization": "Bearer " + token(t, api, 0)}, ""); a.status != 401 {
		t.Fatalf("an API token on the console: %d", a.status)
	}

	// The invitation, sent to the person; its link carries the token after '#'.
	a := call(t, "POST", api+"/onboarding/v1/invitations", console, jsonBody(map[string]string{"email": newAdmin, "community": "CPu"}))
	if a.status != 201 {
		t.Fatalf("invitation: %d %s", a.status, a.rawBody)
	}
	invite := linkPattern.FindString(awaitMail(t, api, newAdmin, 1).Text)
	inviteToken := fragmentParam(t, invite, "invitation")
	company := map[string]any{"name": fmt.Sprintf("Kempen Test Forwarding %d", stamp), "vat": vat, "roles": []string{"ReleaseParty"},
		"addresses": []map[string]string{{"addressTypeCode": "1", "street": "Kaai 1", "postalCode": "2000", "city": "Antwerpen", "country": "BE", "contactName": "Anna", "contactEmail": newAdmin}}}
	register := map[string]any{"invitationToken": inviteToken, "email": newAdmin, "firstName": "Anna", "lastName": "Peeters", "company": company}

	// Bad input first: nothing is written, the invitation stays usable.
	dupVAT := cloneMap(register)
	dupCompany := cloneMap(company)
	dupCompany["vat"] = seedFile.Entities[0].VAT
	dupVAT["company"] = dupCompany
	if a := call(t, "POST", api+"/onboarding/v1/registrations", plain, jsonBody(dupVAT)); a.status != 409 || !strings.Contains(string(a.rawBody), "company.vat") ||
		!strings.Contains(string(a.rawBody), "access-requests") {
		t.Fatalf("a registered VAT: %d %s", a.status, a.rawBody)
	}
	forged := cloneMap(register)
	forged["invitationToken"] = "forged-token"
	if a := call(t, "POST", api+"/onboarding/v1/registrations", plain, jsonBody(forged)); a.status != 400 || !strings.Contains(string(a.rawBody), "invitationToken") {
		t.Fatalf("a forged invitation: %d %s", a.status, a.rawBody)
	}
	badVAT := cloneMap(register)
	badCompany := cloneMap(company)
	badCompany["vat"] = "BE0123456788"
	badVAT["company"] = badCompany
	if a := call(t, "POST", api+"/onboarding/v1/registrations", plain, jsonBody(badVAT)); a.status != 400 || !strings.Contains(string(a.rawBody), "company.vat") {
		t.Fatalf("a VAT with bad check digits: %d %s", a.status, a.rawBody)
	}

	a = call(t, "POST", api+"/onboarding/v1/registrations", plain, jsonBody(register))
	if a.status != 202 {
		t.Fatalf("registration: %d %s", a.status, a.rawBody)
	}
	if b := call(t, "POST", api+"/onboarding/v1/registrations", plain, jsonBody(register)); b.status != 400 {
		t.Fatalf("an invitation used twice: %d %s", b.status, b.rawBody)
	}
	confirmLink := linkPattern.FindString(awaitMail(t, api, newAdmin, 2).Text)
	regID, confirmToken := fragmentParam(t, confirmLink, "registration"), fragmentParam(t, confirmLink, "token")
	terms := []map[string]string{{"name": "General", "version": "2026-01"}, {"name": "Community", "version": "2026-01"}}
	confirmURL := api + "/onboarding/v1/registrations/" + regID + "/confirm"
	for name, body := range map[string]map[string]any{
		"weak password": {"token": confirmToken, "password": "passwordpassword", "acceptedTerms": terms},
		"short":         {"token": confirmToken, "password": "short one", "acceptedTerms": terms},
		"no terms":      {"token": confirmToken, "password": "a river of quiet lanterns", "acceptedTerms": terms[:1]},
		"forged token":  {"token": "forged", "password": "a river of quiet lanterns", "acceptedTerms": terms},
	} {
		if a := call(t, "POST", confirmURL, plain, jsonBody(body)); a.status != 400 {
			t.Fatalf("%s: %d %s", name, a.status, a.rawBody)
		}
	}
	password := "a river of quiet lanterns"
	a = call(t, "POST", confirmURL, plain, jsonBody(map[string]any{"token": confirmToken, "password": password, "acceptedTerms": terms}))
	if a.status != 201 || a.body["membership"] != "PendingApproval" {
		t.Fatalf("confirm: %d %s", a.status, a.rawBody)
	}
	entityID := a.body["entityId"].(string)
	if b := call(t, "POST", confirmURL, plain, jsonBody(map[string]any{"token": confirmToken, "password": password, "acceptedTerms": terms})); b.status != 400 {
		t.Fatalf("confirmed twice: %d", b.status)
	}
	awaitMail(t, api, newAdmin, 3) // the registration is complete

	// The new admin signs in; it may not invite companies.
	adminToken := signIn(t, api, newAdmin, password, 3)
	if a := call(t, "POST", api+"/onboarding/v1/invitations", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + adminToken},
		jsonBody(map[string]string{"community": "CPu"})); a.status != 401 {
		t.Fatalf("an entity admin invited: %d", a.status)
	}

	// The community administrator approves; the admin hears of it.
	a = call(t, "GET", api+"/onboarding/v1/memberships?status=PendingApproval", console, "")
	if a.status != 200 || !strings.Contains(string(a.rawBody), entityID) {
		t.Fatalf("pending memberships: %d %s", a.status, a.rawBody)
	}
	if b := call(t, "POST", api+"/onboarding/v1/memberships/"+seedFile.Entities[0].NxtEntityID+"/decision", console, jsonBody(map[string]string{"decision": "Approve"})); b.status != 404 {
		t.Fatalf("a decision on an entity that never registered: %d", b.status)
	}
	if b := call(t, "POST", api+"/onboarding/v1/memberships/"+entityID+"/decision", console, jsonBody(map[string]string{"decision": "Reject"})); b.status != 400 {
		t.Fatalf("a rejection without a reason: %d", b.status)
	}
	a = call(t, "POST", api+"/onboarding/v1/memberships/"+entityID+"/decision", console, jsonBody(map[string]string{"decision": "Approve"}))
	if a.status != 200 || a.body["status"] != "Approved" {
		t.Fatalf("approve: %d %s", a.status, a.rawBody)
	}
	if m := awaitMail(t, api, newAdmin, 5); !strings.Contains(m.Subject, "approved") {
		t.Fatalf("approval mail: %+v", m)
	}
	if b := call(t, "POST", api+"/onboarding/v1/memberships/"+entityID+"/decision", console, jsonBody(map[string]string{"decision": "Approve"})); b.status != 409 {
		t.Fatalf("decided twice: %d", b.status)
	}

	// People: the admin invites a colleague, who sets a password from the e-mailed link and signs in;
	// the last admin cannot be demoted; another company's admin cannot touch them.
	adminH := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + adminToken}
	colleague := fmt.Sprintf("bram.%d@forwarding.example", stamp)
	a = call(t, "POST", api+"/onboarding/v1/people", adminH, jsonBody(map[string]string{"email": colleague, "firstName": "Bram", "lastName": "Janssens", "role": "User"}))
	if a.status != 201 || a.body["status"] != "Invited" {
		t.Fatalf("invite a person: %d %s", a.status, a.rawBody)
	}
	colleagueID := a.body["userId"].(string)
	setLink := linkPattern.FindString(awaitMail(t, api, colleague, 1).Text)
	if fragmentParam(t, setLink, "user") != colleagueID {
		t.Fatalf("set-password link: %s", setLink)
	}
	setURL := api + "/onboarding/v1/people/" + colleagueID + "/password"
	if b := call(t, "POST", setURL, plain, jsonBody(map[string]string{"token": fragmentParam(t, setLink, "token"), "password": "qwertyuiopasdfghjkl"})); b.status != 400 {
		t.Fatalf("a listed password: %d", b.status)
	}
	colleaguePassword := "seven green ferries at dawn"
	if b := call(t, "POST", setURL, plain, jsonBody(map[string]string{"token": fragmentParam(t, setLink, "token"), "password": colleaguePassword})); b.status != 200 || b.body["status"] != "Active" {
		t.Fatalf("set the password: %d %s", b.status, b.rawBody)
	}
	if b := call(t, "POST", setURL, plain, jsonBody(map[string]string{"token": fragmentParam(t, setLink, "token"), "password": colleaguePassword})); b.status != 400 {
		t.Fatalf("the link worked twice: %d", b.status)
	}
	colleagueToken := signIn(t, api, colleague, colleaguePassword, 1)
	me := a.body["entity"].(string)
	list := call(t, "GET", api+"/onboarding/v1/people", adminH, "")
	if list.status != 200 || !strings.Contains(string(list.rawBody), colleague) || strings.Contains(string(list.rawBody), "passwordHash") || me != entityID ||
		!strings.Contains(string(list.rawBody), `"name":"Community","version":"2026-01"`) {
		t.Fatalf("people: %d %s", list.status, list.rawBody)
	}
	var mine []map[string]any
	json.Unmarshal(list.rawBody, &mine)
	adminID := ""
	for _, p := range mine {
		if p["email"] == newAdmin {
			adminID = p["userId"].(string)
		}
	}
	if b := call(t, "POST", api+"/onboarding/v1/people/"+adminID, adminH, jsonBody(map[string]string{"role": "User"})); b.status != 409 {
		t.Fatalf("the last admin demoted: %d %s", b.status, b.rawBody)
	}
	other := signIn(t, api, seedFile.People[2].Email, seedFile.People[2].Password, len(mailbox(t, api, seedFile.People[2].Email)))
	if b := call(t, "POST", api+"/onboarding/v1/people/"+colleagueID, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + other},
		jsonBody(map[string]string{"status": "Blocked"})); b.status != 401 || strings.Contains(string(b.rawBody), colleague) {
		t.Fatalf("another company's admin: %d %s", b.status, b.rawBody)
	}
	if b := call(t, "POST", api+"/onboarding/v1/people/"+colleagueID, adminH, jsonBody(map[string]string{"role": "Admin"})); b.status != 200 {
		t.Fatalf("promote: %d %s", b.status, b.rawBody)
	}
	if b := call(t, "POST", api+"/onboarding/v1/people/"+colleagueID, adminH, jsonBody(map[string]string{"status": "Blocked"})); b.status != 200 || b.body["status"] != "Blocked" {
		t.Fatalf("block: %d %s", b.status, b.rawBody)
	}
	// A blocked person's session stops at once, and its sign-in sends no code.
	if b := call(t, "GET", api+"/onboarding/v1/people", map[string]string{"Authorization": "Bearer " + colleagueToken}, ""); b.status != 401 {
		t.Fatalf("a blocked admin's session: %d", b.status)
	}
	call(t, "POST", api+"/onboarding/v1/sign-in", plain, jsonBody(map[string]string{"email": colleague, "password": colleaguePassword}))

	// Five wrong passwords lock sign-in: then even the right one sends no code, and the owner is told.
	for i := 0; i < 5; i++ {
		call(t, "POST", api+"/onboarding/v1/sign-in", plain, jsonBody(map[string]string{"email": newAdmin, "password": fmt.Sprintf("wrong passphrase number %d", i)}))
	}
	if m := awaitMail(t, api, newAdmin, 6); !strings.Contains(m.Subject, "locked") {
		t.Fatalf("lock mail: %+v", m)
	}
	if a := call(t, "POST", api+"/onboarding/v1/sign-in", plain, jsonBody(map[string]string{"email": newAdmin, "password": password})); a.status != 202 {
		t.Fatalf("locked sign-in: %d", a.status)
	}
	// The access request of a colleague reaches the admin; for an unknown company nothing happens.
	a = call(t, "POST", api+"/onboarding/v1/access-requests", plain, jsonBody(map[string]string{"vat": vat, "email": "colleague@forwarding.example", "firstName": "Bram", "lastName": "Janssens"}))
	if a.status != 202 {
		t.Fatalf("access request: %d %s", a.status, a.rawBody)
	}
	if m := awaitMail(t, api, newAdmin, 7); !strings.Contains(m.Text, "colleague@forwarding.example") {
		t.Fatalf("access request mail: %+v", m)
	}
	if got := len(mailbox(t, api, newAdmin)); got != 7 {
		t.Fatalf("the locked sign-in sent a code: %d messages", got)
	}
	if got := len(mailbox(t, api, colleague)); got != 2 {
		t.Fatalf("the blocked person got a code: %d messages", got)
	}
	subscribeAndCallTheAPI(t, api, entityID, adminH, newAdmin)
}

// subscribeAndCallTheAPI: the approved company's admin subscribes to the CPu API (approved at once),
// reads its two keys and calls the API with them through a client support issued; regenerating one
// key leaves the other working; cancelling revokes them; an API that asks for approval waits for
// the asset manager, who approves from the e-mailed request.
func subscribeAndCallTheAPI(t *testing.T, api, entityID string, adminH map[string]string, adminEmail string) {
	a := call(t, "GET", api+"/onboarding/v1/apis", adminH, "")
	if a.status != 200 || a.body["environment"] != "Acceptance" {
		t.Fatalf("apis: %d %s", a.status, a.rawBody)
	}
	if b := call(t, "POST", api+"/onboarding/v1/subscriptions", adminH, jsonBody(map[string]string{"api": "cpu", "environment": "Acceptance", "termsVersion": "2025-01"})); b.status != 400 {
		t.Fatalf("old terms: %d", b.status)
	}
	a = call(t, "POST", api+"/onboarding/v1/subscriptions", adminH, jsonBody(map[string]string{"api": "cpu", "environment": "Acceptance", "termsVersion": "2026-01"}))
	if a.status != 201 || a.body["status"] != "Approved" || a.body["primaryKeyPrefix"] == nil {
		t.Fatalf("subscribe: %d %s", a.status, a.rawBody)
	}
	if b := call(t, "POST", api+"/onboarding/v1/subscriptions", adminH, jsonBody(map[string]string{"api": "cpu", "environment": "Acceptance", "termsVersion": "2026-01"})); b.status != 409 {
		t.Fatalf("subscribed twice: %d", b.status)
	}
	keys := call(t, "GET", api+"/onboarding/v1/subscriptions/cpu/keys", adminH, "")
	primary, _ := keys.body["primaryKey"].(string)
	secondary, _ := keys.body["secondaryKey"].(string)
	if keys.status != 200 || len(primary) < 20 || len(secondary) < 20 || !strings.HasPrefix(primary, a.body["primaryKeyPrefix"].(string)) {
		t.Fatalf("keys: %d %s", keys.status, keys.rawBody)
	}
	// Support issues the company's API client (seed 002: a support request).
	client := issueClient(t, entityID)
	tok := clientToken(t, api, client.Client.ClientID, client.ClientSecret)
	e6 := func(key string) int {
		return call(t, "GET", api+"/certified-pickup/v1/entities?NxtEntityId="+entityID, map[string]string{"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": key}, "").status
	}
	if got := e6(primary); got != 200 {
		t.Fatalf("the API with the primary key: %d", got)
	}
	// The console lists the client, never its secret; and the company's channels (none yet).
	if c := call(t, "GET", api+"/onboarding/v1/clients", adminH, ""); c.status != 200 || !strings.Contains(string(c.rawBody), client.Client.ClientID) ||
		strings.Contains(string(c.rawBody), client.ClientSecret) {
		t.Fatalf("clients: %d %s", c.status, c.rawBody)
	}
	if c := call(t, "GET", api+"/onboarding/v1/channels", adminH, ""); c.status != 200 || string(c.rawBody) != "[]" {
		t.Fatalf("channels: %d %s", c.status, c.rawBody)
	}
	if c := call(t, "GET", api+"/onboarding/v1/channels/00000000-0000-4000-8000-000000000000/deliveries", adminH, ""); c.status != 404 {
		t.Fatalf("another's channel log: %d", c.status)
	}
	// The secondary is regenerated before it is ever used (nothing caches it): it stops at once,
	// the new one works, and so does the primary.
	r := call(t, "POST", api+"/onboarding/v1/subscriptions/cpu/keys/secondary/regenerate", adminH, "")
	if r.status != 200 || r.body["primaryKey"] != primary || r.body["secondaryKey"] == secondary {
		t.Fatalf("regenerate: %d %s", r.status, r.rawBody)
	}
	if got := e6(secondary); got != 401 {
		t.Fatalf("the replaced key: %d", got)
	}
	if got, other := e6(r.body["secondaryKey"].(string)), e6(primary); got != 200 || other != 200 {
		t.Fatalf("after the regeneration: new secondary %d, primary %d", got, other)
	}
	// Cancelling revokes both: a key never used since is refused at once.
	fresh := call(t, "POST", api+"/onboarding/v1/subscriptions/cpu/keys/secondary/regenerate", adminH, "").body["secondaryKey"].(string)
	if c := call(t, "POST", api+"/onboarding/v1/subscriptions/cpu/cancel", adminH, ""); c.status != 200 || c.body["status"] != "Cancelled" {
		t.Fatalf("cancel: %d %s", c.status, c.rawBody)
	}
	if got := e6(fresh); got != 401 {
		t.Fatalf("a cancelled subscription's key: %d", got)
	}
	if k := call(t, "GET", api+"/onboarding/v1/subscriptions/cpu/keys", adminH, ""); k.status != 409 {
		t.Fatalf("keys of a cancelled subscription: %d", k.status)
	}

	// An API that asks for approval: the asset manager is e-mailed and approves.
	manager := seedFile.People[1]
	before := len(mailbox(t, api, manager.Email))
	a = call(t, "POST", api+"/onboarding/v1/subscriptions", adminH, jsonBody(map[string]string{"api": "import-consignment", "environment": "Acceptance", "termsVersion": "2026-01"}))
	if a.status != 201 || a.body["status"] != "PendingApproval" {
		t.Fatalf("subscribe with approval: %d %s", a.status, a.rawBody)
	}
	if m := awaitMail(t, api, manager.Email, before+1); !strings.Contains(m.Text, entityID) {
		t.Fatalf("approval request: %+v", m)
	}
	managerH := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + signIn(t, api, manager.Email, manager.Password, before+1)}
	if q := call(t, "GET", api+"/onboarding/v1/subscriptions?status=PendingApproval", managerH, ""); q.status != 200 || !strings.Contains(string(q.rawBody), entityID) {
		t.Fatalf("the asset manager's queue: %d %s", q.status, q.rawBody)
	}
	if q := call(t, "GET", api+"/onboarding/v1/subscriptions?status=PendingApproval", adminH, ""); q.status != 401 {
		t.Fatalf("an admin read the asset manager's queue: %d", q.status)
	}
	mails := len(mailbox(t, api, adminEmail))
	d := call(t, "POST", api+"/onboarding/v1/subscriptions/import-consignment/decisions/"+entityID, managerH, jsonBody(map[string]string{"decision": "Approve"}))
	if d.status != 200 || d.body["status"] != "Approved" {
		t.Fatalf("approve: %d %s", d.status, d.rawBody)
	}
	awaitMail(t, api, adminEmail, mails+1)
	if k := call(t, "GET", api+"/onboarding/v1/subscriptions/import-consignment/keys", adminH, ""); k.status != 200 {
		t.Fatalf("keys after approval: %d", k.status)
	}
}

// issueClient issues an entity's API client as `cpuadmin issue` does on the local stack.
func issueClient(t *testing.T, entityID string) identity.Issued {
	t.Helper()
	raw, err := os.ReadFile(stackState)
	if err != nil {
		t.Fatal(err)
	}
	var state localstack.State
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	_, keyValue, err := identity.SplitSecretKeySetting(state.ClientSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := identity.SecretHasherFromLocal(keyValue)
	if err != nil {
		t.Fatal(err)
	}
	db := (&localstack.Backends{DynamoEndpoint: state.DynamoEndpoint}).DynamoDB()
	svc := onboarding.Service{Store: store.New(db, state.Table), Secrets: secrets, Plan: onboarding.NoUsagePlan{}, Environment: state.Stage, Now: time.Now}
	issued, err := svc.Issue(context.Background(), entityID)
	if err != nil {
		t.Fatal(err)
	}
	return issued
}

func clientToken(t *testing.T, api, id, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	a := call(t, "POST", api+"/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if a.status != 200 {
		t.Fatalf("token: %d %s", a.status, a.rawBody)
	}
	return a.body["access_token"].(string)
}

func fragmentParam(t *testing.T, link, name string) string {
	t.Helper()
	_, frag, ok := strings.Cut(link, "#")
	_, query, ok2 := strings.Cut(frag, "?")
	v, err := url.ParseQuery(query)
	if !ok || !ok2 || err != nil || v.Get(name) == "" {
		t.Fatalf("link %q has no %s", link, name)
	}
	return v.Get(name)
}

func cloneMap(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}
