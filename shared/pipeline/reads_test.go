package pipeline_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/reads"
	"github.com/portcommunity/cpu/shared/release"
)

// read calls E2 (no container) or E5 and returns the result the notification delivers.
func (h *harness) readRights(caller, container string, query map[string]string) (notification.Envelope, json.RawMessage) {
	h.t.Helper()
	rh := &reads.Handlers{Store: h.st, Ports: release.ParsePorts("BEANR"), Now: h.clock}
	handle, path := rh.HandleList, map[string]string{"portLoCode": "BEANR"}
	if container != "" {
		handle, path["equipmentNumber"] = rh.HandleDetail, container
	}
	url := "/certified-pickup/v1/BEANR/containers/import/release-rights"
	if container != "" {
		url += "/" + container
	}
	resp, err := h.invoke(handle, url, proxy("GET", path, query, nil, caller, roles[caller], "read-ref"))
	if err != nil || resp.StatusCode != 200 {
		h.t.Fatalf("read answered %d: %s", resp.StatusCode, resp.Body)
	}
	var ack map[string]any
	json.Unmarshal([]byte(resp.Body), &ack)
	ref := ack["publicReferenceId"].(string)
	got := h.sent(ref, 1)
	if got[0][:len(caller)] != caller {
		h.t.Fatalf("the result went to %v", got)
	}
	ns, _ := h.st.NotificationsUnder(context.Background(), ref)
	var env notification.Envelope
	json.Unmarshal([]byte(ns[0].Message), &env)
	return env, env.Body.Extra
}

func (h *harness) list(caller string, query map[string]string) reads.Page {
	h.t.Helper()
	env, raw := h.readRights(caller, "", query)
	if env.Type != "ReleaseRight" || env.Event != "Update" || env.ExternalReferenceID == nil || *env.ExternalReferenceID != "read-ref" {
		h.t.Fatalf("E2 notification %s/%s", env.Type, env.Event)
	}
	var p reads.Page
	if err := json.Unmarshal(raw, &p); err != nil {
		h.t.Fatalf("E2 result: %v %s", err, raw)
	}
	return p
}

func TestListOfMyRights(t *testing.T) {
	h := newHarness(t)
	for _, c := range []string{"CAIU7654324", "CAIU1234561", "CSQU3054383"} {
		h.released(c)
	}
	h.sent(h.ok(h.one(sa1, "Transfer", "CAIU1234561", sa1, rp, nil)), 2)
	h.sent(h.sa(body("Block", map[string]any{"equipmentNumber": "CSQU3054383", "releaseIdentification": "R-CSQU3054383"})), 2)

	all := h.list(sa1, nil)
	if all.TotalRows != 3 || all.TotalPages != 1 || len(all.Items) != 3 {
		t.Fatalf("agent's list: %+v", all)
	}
	for _, it := range all.Items {
		if it.EquipmentNumber == "CAIU1234561" && (it.ReleaseRightStatus != release.StatusPending || it.ActionStatus != release.ActionTransfer || it.PendingTo == nil) {
			t.Errorf("sender's view of a pending transfer: %+v", it)
		}
		if it.ShippingAgent.Name != "Scheldt Shipping Agency" || it.Terminal.Name != "Deurganck Container Terminal" {
			t.Errorf("parties not named: %+v", it)
		}
	}
	mine := h.list(rp, nil)
	if mine.TotalRows != 1 || mine.Items[0].ReleaseRightStatus != release.StatusAssigned || mine.Items[0].ActionStatus != release.ActionPending {
		t.Fatalf("receiver's list: %+v", mine)
	}
	if p := h.list(tro, nil); p.TotalRows != 0 || len(p.Items) != 0 {
		t.Fatalf("a party without rights: %+v", p)
	}
	for name, c := range map[string]struct {
		q    map[string]string
		want int
	}{
		"container":                          {map[string]string{"equipmentnumberfilter": "caiu76"}, 1},
		"B/L":                                {map[string]string{"billofladingnumberfilter": "bl1"}, 3},
		"agent name":                         {map[string]string{"shippingagentnamefilter": "scheldt"}, 3},
		"agent TIN":                          {map[string]string{"shippingagenttinfilter": party(sa1, "", 4031700, nil).VAT}, 3},
		"other agent's TIN":                  {map[string]string{"shippingagenttinfilter": party(sa2, "", 4031701, nil).VAT}, 0},
		"terminal name":                      {map[string]string{"terminalnamefilter": "deurganck"}, 3},
		"stakeholder name":                   {map[string]string{"currentstakeholdernamefilter": "SCHELDT"}, 3},
		"stakeholder TIN":                    {map[string]string{"currentstakeholdertinfilter": party(rp, "", 4031704, nil).VAT}, 0},
		"right status pending":               {map[string]string{"releaserightstatusfilter": "2"}, 1},
		"right status assigned":              {map[string]string{"releaserightstatusfilter": "1"}, 2},
		"action status":                      {map[string]string{"actionStatusFilter": "3"}, 1},
		"status: commercial light not green": {map[string]string{"status": "4"}, 1},
		"status: active":                     {map[string]string{"status": "0"}, 3},
		"combined (AND)":                     {map[string]string{"status": "0", "releaserightstatusfilter": "1", "equipmentnumberfilter": "CSQU"}, 1},
	} {
		if p := h.list(sa1, c.q); p.TotalRows != c.want {
			t.Errorf("%s: %d rows, want %d", name, p.TotalRows, c.want)
		}
	}
	h.countersAgree(sa1, rp, tro)
	p := h.list(sa1, map[string]string{"page": "2", "pageSize": "2"})
	if p.TotalRows != 3 || p.TotalPages != 2 || len(p.Items) != 1 || p.Items[0].EquipmentNumber != "CSQU3054383" {
		t.Fatalf("paging: %+v", p)
	}
}

func TestReleaseDetail(t *testing.T) {
	h := newHarness(t)
	c := "CAIU7654324"
	h.released(c)
	h.sent(h.ok(h.one(sa1, "Transfer", c, sa1, rp, nil)), 2)
	for _, who := range []string{sa1, top, rp} {
		env, raw := h.readRights(who, c, map[string]string{"billOfLadingNumbers": "BL1", "releaseIdentification": "R-" + c})
		var items []reads.Item
		json.Unmarshal(raw, &items)
		if env.Event != "Update" || len(items) != 1 || len(items[0].Chain) != 2 || items[0].Lights[release.LightCommercial] != "OK" {
			t.Fatalf("%s's detail: %s %s", who, env.Event, raw)
		}
	}
	// A party without a part in the release gets NotValidated.
	env, _ := h.readRights(tro, c, nil)
	if env.Event != "NotValidated" || len(env.Errors) == 0 {
		t.Fatalf("stranger's detail: %+v", env)
	}
	// Wrong B/Ls: nothing matches.
	if env, _ := h.readRights(sa1, c, map[string]string{"billOfLadingNumbers": "BL9"}); env.Event != "NotValidated" {
		t.Fatalf("wrong B/L: %s", env.Event)
	}
}
