package reads

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/release"
)

// bigStore holds releases at every limit, in wide text (three bytes a character): large answers of
// E2 and E5. These tests are about the answers' size, not DynamoDB.
type bigStore struct {
	rels []release.Release
	sent []notification.Notification
}

var wide = strings.Repeat("漢", 35) // 35 characters, 105 bytes

func newBigStore(n int) *bigStore {
	st := &bigStore{}
	for i := 0; i < n; i++ {
		var bls []string
		for b := 0; b < release.MaxBillsOfLading; b++ {
			bls = append(bls, fmt.Sprintf("%02d", b)+wide[:len(wide)-6])
		}
		st.rels = append(st.rels, release.Release{ReleaseID: fmt.Sprintf("rel-%03d", i), PortLoCode: "BEANR", EquipmentNumber: "CSQU3054383",
			BillOfLadingKey: fmt.Sprint(i), CarrierID: "NXT200000001", TerminalOperatorID: "NXT200000003", Light: release.LightOK,
			Data:  release.Request{ReleaseIdentification: wide, TerminalCode: "01700", BillOfLadingNumbers: bls},
			Right: release.Right{Holder: "NXT200000001", Status: release.StatusAssigned, Hops: 1500}})
	}
	return st
}

func (s *bigStore) RightsOf(context.Context, string, string) ([]release.Membership, int, error) {
	return nil, 0, nil
}
func (s *bigStore) RightsPage(_ context.Context, _, _ string, n int) ([]release.Membership, int, error) {
	var ms []release.Membership
	for i := 0; i < n && i < len(s.rels); i++ {
		ms = append(ms, release.Membership{ReleaseID: s.rels[i].ReleaseID, ShippingID: "NXT200000001", TerminalID: "NXT200000003", HolderID: "NXT200000001"})
	}
	return ms, 1, nil
}
func (s *bigStore) CountRights(context.Context, string, string) (int, error) { return len(s.rels), nil }
func (s *bigStore) Releases(_ context.Context, ms []release.Membership) ([]release.Release, error) {
	return s.rels[:len(ms)], nil
}
func (s *bigStore) ActiveOnContainer(context.Context, string, string) ([]release.Release, error) {
	return s.rels, nil
}
func (s *bigStore) Hops(_ context.Context, _, _, _ string, newest int) ([]release.Hop, error) {
	hops := make([]release.Hop, newest)
	for i := range hops {
		hops[i] = release.Hop{Seq: 1450 + i, From: "NXT200000001", To: "NXT200000005", Action: "Transfer", Reason: strings.Repeat("漢", release.MaxReasonChars),
			At: time.Now(), PublicReferenceID: "00000000-0000-4000-8000-000000000001"}
	}
	return hops, nil
}
func (s *bigStore) Profiles(_ context.Context, ids []string) ([]entity.Entity, error) {
	var es []entity.Entity
	for _, id := range ids {
		es = append(es, entity.Entity{NxtEntityID: id, Name: strings.Repeat("漢", entity.MaxNameLength), VAT: "BE0403170008"})
	}
	return es, nil
}
func (s *bigStore) PutNotifications(_ context.Context, ns []notification.Notification) error {
	s.sent = append(s.sent, ns...)
	return nil
}

func read(t *testing.T, h *Handlers, handle apigw.Handler, path map[string]string, query map[string][]string) notification.Envelope {
	t.Helper()
	resp, err := handle(context.Background(), &apigw.Request{PathParams: path, Query: query,
		Caller: &apigw.Caller{EntityID: "NXT200000001", Roles: []entity.Role{entity.ShippingAgent}}})
	if err != nil || resp.Status != 200 {
		t.Fatalf("%d %v", resp.Status, err)
	}
	st := h.Store.(*bigStore)
	n := st.sent[len(st.sent)-1]
	if len(n.Message) > MaxAnswerBytes+8<<10 {
		t.Fatalf("the answer's notification is %d bytes", len(n.Message))
	}
	var env notification.Envelope
	if err := json.Unmarshal([]byte(n.Message), &env); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestLargestAnswersFitOneNotification: E5 of ten releases, each with long reasons in wide text,
// keeps as many of the newest hops as the budget allows and says the chain is truncated; an
// E2 page that cannot fit is refused with NotValidated naming pageSize, and a smaller one fits.
func TestLargestAnswersFitOneNotification(t *testing.T) {
	h := &Handlers{Store: newBigStore(MaxDetailReleases), Ports: release.ParsePorts("BEANR"), Now: time.Now}
	env := read(t, h, h.HandleDetail, map[string]string{"portLoCode": "BEANR", "equipmentNumber": "CSQU3054383"}, nil)
	var items []Item
	if err := json.Unmarshal(env.Body.Extra, &items); err != nil || env.Event != release.EventUpdate || len(items) != MaxDetailReleases {
		t.Fatalf("E5: %s, %d items, %v", env.Event, len(items), err)
	}
	for _, it := range items {
		if !it.ChainTruncated || it.ChainLength != 1500 || len(it.Chain) == 0 || len(it.Chain) >= MaxDetailHops || it.Chain[len(it.Chain)-1].Seq != 1450+MaxDetailHops-1 {
			t.Fatalf("E5 chain: %d hops of %d, truncated %v, newest %d", len(it.Chain), it.ChainLength, it.ChainTruncated, it.Chain[len(it.Chain)-1].Seq)
		}
	}

	h = &Handlers{Store: newBigStore(100), Ports: release.ParsePorts("BEANR"), Now: time.Now}
	env = read(t, h, h.HandleList, map[string]string{"portLoCode": "BEANR"}, map[string][]string{"pageSize": {"100"}})
	if env.Event != release.EventNotValidated || len(env.Errors) != 1 || !strings.Contains(env.Errors[0], "pageSize") {
		t.Fatalf("E2 of 100 rows at every limit: %s %v", env.Event, env.Errors)
	}
	env = read(t, h, h.HandleList, map[string]string{"portLoCode": "BEANR"}, map[string][]string{"pageSize": {"25"}})
	if env.Event != release.EventUpdate {
		t.Fatalf("E2 of 25 rows at every limit: %s %v", env.Event, env.Errors)
	}
}
