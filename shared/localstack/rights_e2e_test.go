package localstack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/localstack/testenv"
)

// TestReleaseRightsThroughTheStack: a transfer through E3, an accept through E4, and the list of
// rights through E2, whose answer arrives as a notification read through E7.
func TestReleaseRightsThroughTheStack(t *testing.T) {
	api := startStack(t)
	sa, fwd := seedFile.Entities[1], seedFile.Entities[5]
	saTok, fwdTok := token(t, api, 1), token(t, api, 5)
	saH := map[string]string{"Authorization": "Bearer " + saTok, "Ocp-Apim-Subscription-Key": sa.Credentials.SubscriptionKey, "Content-Type": "application/json"}
	fwdH := map[string]string{"Authorization": "Bearer " + fwdTok, "Ocp-Apim-Subscription-Key": fwd.Credentials.SubscriptionKey, "Content-Type": "application/json"}
	party := func(id string) map[string]string {
		return map[string]string{"identificationType": "NxtEntityId", "identificationCode": id}
	}
	c := "CSQU3054383"
	rel, _ := json.Marshal(map[string]any{"actionType": "Release", "releaseIdentification": "RR-1", "equipmentNumber": c, "billOfLadingNumbers": []string{"BLRR"},
		"portLoCode": "BEANR", "terminalCode": "0100", "isCarrierHaulage": true, "releaseDateTimeUtc": "2026-11-21T08:00:00Z", "carrier": party(sa.NxtEntityID)})
	waitFor := func(h map[string]string, ref string, n int) []map[string]any {
		t.Helper()
		var items []map[string]any
		if testenv.Eventually(30*time.Second, func() bool {
			r := callRaw(t, api+"/certified-pickup/v1/notifications?publicReferenceId="+ref, h)
			return r.status == 200 && json.Unmarshal(r.raw, &items) == nil && len(items) >= n
		}) {
			return items
		}
		t.Fatalf("reference %s: %d notifications, want %d", ref, len(items), n)
		return nil
	}
	a := call(t, "POST", api+"/ingestion/v1/ingestion/"+sa.Credentials.IngestionID, saH, string(rel))
	waitFor(saH, a.body["publicReferenceId"].(string), 1)

	item := map[string]any{"releaseIdentification": "RR-1", "equipmentNumber": c, "billOfLadingNumbers": []string{"BLRR"}, "terminalCode": "0100",
		"releaseFrom": party(sa.NxtEntityID), "releaseTo": party(fwd.NxtEntityID)}
	one := map[string]any{"actionType": "Transfer", "portLoCode": "BEANR", "carrier": party(sa.NxtEntityID)}
	for k, v := range item {
		one[k] = v
	}
	oneRaw, _ := json.Marshal(one)
	a = call(t, "PUT", api+"/certified-pickup/v1/BEANR/containers/"+c+"/import/release-rights", saH, string(oneRaw))
	if a.status != 202 {
		t.Fatalf("E3: %d %v", a.status, a.body)
	}
	waitFor(fwdH, a.body["publicReferenceId"].(string), 1)

	raw, _ := json.Marshal(map[string]any{"portLoCode": "BEANR", "actionType": "Accept", "releaseRights": []any{item}})
	a = call(t, "PUT", api+"/certified-pickup/v1/BEANR/containers/import/release-rights", fwdH, string(raw))
	if a.status != 202 {
		t.Fatalf("E4: %d %v", a.status, a.body)
	}
	accepted := waitFor(fwdH, a.body["publicReferenceId"].(string), 1)
	if accepted[0]["event"] != "AcceptedByNextParty" {
		t.Fatalf("accept: %v", accepted[0]["event"])
	}

	a = call(t, "GET", api+"/certified-pickup/v1/BEANR/containers/import/release-rights?releaserightstatusfilter=3", fwdH, "")
	if a.status != 200 {
		t.Fatalf("E2: %d %v", a.status, a.body)
	}
	list := waitFor(fwdH, a.body["publicReferenceId"].(string), 1)
	if list[0]["event"] != "Update" || !strings.Contains(list[0]["message"].(string), `"totalRows":1`) || !strings.Contains(list[0]["message"].(string), c) {
		t.Fatalf("E2 result: %v", list[0]["message"])
	}
	a = call(t, "GET", api+"/certified-pickup/v1/BEANR/containers/import/release-rights/"+c+"?billOfLadingNumbers=BLRR", saH, "")
	detail := waitFor(saH, a.body["publicReferenceId"].(string), 1)
	if !strings.Contains(detail[0]["message"].(string), `"chainOfCustody"`) {
		t.Fatalf("E5 result: %v", detail[0]["message"])
	}
	// Route and body disagree: the seed's 400.
	a = call(t, "PUT", api+"/certified-pickup/v1/BEANR/containers/CAIU7654324/import/release-rights", saH, string(oneRaw))
	if a.status != 400 || a.body["detail"] != "Route parameter 'EquipmentNumber' does not match with EquipmentNumber from body" {
		t.Fatalf("mismatch: %d %v", a.status, a.body)
	}
}
