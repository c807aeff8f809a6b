package localstack_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/localstack/testenv"
)

// TestReleasePipelineThroughTheStack: the six E1 actions through the gateway are accepted with 202
// and their notifications become readable through E7, each by its public reference id.
func TestReleasePipelineThroughTheStack(t *testing.T) {
	api := startStack(t)
	sa, term, rp := seedFile.Entities[0], seedFile.Entities[2], seedFile.Entities[4]
	saTok, termTok := token(t, api, 0), token(t, api, 2)
	ingest := api + "/ingestion/v1/ingestion/" + sa.Credentials.IngestionID
	base := map[string]any{
		"releaseIdentification": "E2E-1", "equipmentNumber": "CAIU1234561", "billOfLadingNumbers": []string{"BLE2E"},
		"portLoCode": "BEANR", "terminalCode": term.TerminalCodes[0],
	}
	full := func(action string) map[string]any {
		b := map[string]any{"actionType": action, "isCarrierHaulage": false, "releaseDateTimeUtc": "2026-11-21T08:00:00Z",
			"carrier": map[string]string{"identificationType": "NxtEntityId", "identificationCode": sa.NxtEntityID}}
		for k, v := range base {
			b[k] = v
		}
		return b
	}
	keyOnly := func(action string) map[string]any {
		b := map[string]any{"actionType": action}
		for k, v := range base {
			b[k] = v
		}
		return b
	}
	rel := full("Release")
	rel["releaseTo"] = map[string]string{"identificationType": "Eori", "identificationCode": rp.EORI}
	steps := []struct {
		body map[string]any
		want int // notifications to the shipping agent
	}{{rel, 2}, {full("Update"), 1}, {keyOnly("Block"), 1}, {keyOnly("Unblock"), 1}, {keyOnly("Revoke"), 1}, {keyOnly("Delete"), 1}}
	saHeaders := map[string]string{"Authorization": "Bearer " + saTok, "Ocp-Apim-Subscription-Key": sa.Credentials.SubscriptionKey}
	for i, s := range steps {
		raw, _ := json.Marshal(s.body)
		h := map[string]string{"Authorization": "Bearer " + saTok, "Content-Type": "application/json", "External-Reference-Id": "e2e"}
		if i%2 == 1 {
			h["Ocp-Apim-Subscription-Key"] = sa.Credentials.SubscriptionKey // optional on /ingestion
		}
		a := call(t, "POST", ingest, h, string(raw))
		ref, _ := a.body["publicReferenceId"].(string)
		if a.status != 202 || ref == "" || a.body["externalReferenceId"] != "e2e" {
			t.Fatalf("%s: %d %v", s.body["actionType"], a.status, a.body)
		}
		var got []any
		testenv.Eventually(30*time.Second, func() bool {
			r := callRaw(t, api+"/certified-pickup/v1/notifications?publicReferenceId="+ref, saHeaders)
			return r.status == 200 && json.Unmarshal(r.raw, &got) == nil && len(got) >= s.want
		})
		if len(got) != s.want {
			t.Fatalf("%s: %d notifications to the shipping agent, want %d", s.body["actionType"], len(got), s.want)
		}
	}
	// The terminal reads its own notifications of the container, newest first.
	r := callRaw(t, api+"/certified-pickup/v1/notifications?"+url.Values{"equipmentNumber": {"CAIU1234561"}}.Encode(),
		map[string]string{"Authorization": "Bearer " + termTok, "Ocp-Apim-Subscription-Key": term.Credentials.SubscriptionKey})
	var items []map[string]any
	json.Unmarshal(r.raw, &items)
	if r.status != 200 || len(items) != 5 || !strings.Contains(items[0]["message"].(string), `"actionType":"Delete"`) {
		t.Fatalf("terminal's notifications: %d %d", r.status, len(items))
	}
	// Without a key, E7 is refused; an invalid E1 body is a 400 that changes nothing.
	if a := call(t, "GET", api+"/certified-pickup/v1/notifications?equipmentNumber=CAIU1234561", map[string]string{"Authorization": "Bearer " + termTok}, ""); a.status != 401 {
		t.Errorf("E7 without key: %d", a.status)
	}
	if a := call(t, "POST", ingest, map[string]string{"Authorization": "Bearer " + saTok}, `{"actionType":"Release"}`); a.status != 400 {
		t.Errorf("invalid E1: %d", a.status)
	}
}

type rawAnswer struct {
	status int
	raw    []byte
}

func callRaw(t *testing.T, u string, headers map[string]string) rawAnswer {
	t.Helper()
	a := call(t, "GET", u, headers, "")
	raw, _ := json.Marshal(a.body)
	if a.body == nil {
		raw = a.rawBody
	}
	return rawAnswer{a.status, raw}
}
