package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/reads"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

var roles = map[string][]entity.Role{
	sa1: {entity.ShippingAgent}, sa2: {entity.ShippingAgent}, rp: {entity.ReleaseParty}, tro: {entity.TransportOperator}, top: {entity.TerminalOperator},
}

func ref(id string) map[string]string {
	return map[string]string{"identificationType": "NxtEntityId", "identificationCode": id}
}

func rightItem(container, from, to string) map[string]any {
	return map[string]any{"releaseIdentification": "R-" + container, "equipmentNumber": container, "billOfLadingNumbers": []string{"BL1"},
		"terminalCode": "01700", "releaseFrom": ref(from), "releaseTo": ref(to)}
}

// one calls E3 as caller (Transfer or Revoke of one right).
func (h *harness) one(caller, action, container, from, to string, mutate map[string]any) (int, string, map[string]any) {
	h.t.Helper()
	b := rightItem(container, from, to)
	b["portLoCode"], b["actionType"], b["carrier"], b["reasonForAction"] = "BEANR", action, ref(sa1), "test"
	for k, v := range mutate {
		b[k] = v
	}
	raw, _ := json.Marshal(b)
	resp, err := h.invoke(h.rights.HandleOne, "/certified-pickup/v1/BEANR/containers/"+container+"/import/release-rights",
		proxy("PUT", map[string]string{"portLoCode": "BEANR", "equipmentNumber": container}, nil, raw, caller, roles[caller], ""))
	if err != nil {
		h.t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal([]byte(resp.Body), &doc)
	s, _ := doc["publicReferenceId"].(string)
	return resp.StatusCode, s, doc
}

// bulk calls E4 as caller.
func (h *harness) bulk(caller, action string, items ...map[string]any) (int, string, map[string]any) {
	h.t.Helper()
	raw, _ := json.Marshal(map[string]any{"portLoCode": "BEANR", "actionType": action, "releaseRights": items})
	resp, err := h.invoke(h.rights.HandleBulk, "/certified-pickup/v1/BEANR/containers/import/release-rights", proxy("PUT", map[string]string{"portLoCode": "BEANR"}, nil, raw, caller, roles[caller], ""))
	if err != nil {
		h.t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal([]byte(resp.Body), &doc)
	s, _ := doc["publicReferenceId"].(string)
	return resp.StatusCode, s, doc
}

func (h *harness) ok(status int, ref string, doc map[string]any) string {
	h.t.Helper()
	if status != 202 {
		h.t.Fatalf("answered %d: %v", status, doc)
	}
	return ref
}

func (h *harness) released(container string) {
	h.t.Helper()
	h.sent(h.sa(body("Release", map[string]any{"equipmentNumber": container, "releaseIdentification": "R-" + container})), 2)
}

func (h *harness) holderOf(container string) (string, int, string) {
	h.t.Helper()
	l, err := h.st.Load(context.Background(), storeRef(container), "none", 0)
	cur := l.Release
	if err != nil || cur == nil {
		h.t.Fatalf("load %s: %v", container, err)
	}
	return cur.Right.Holder, cur.Right.Status, cur.Right.PendingTo
}

func storeRef(container string) release.Ref {
	return release.Ref{PortLoCode: "BEANR", EquipmentNumber: container, BillOfLadingKey: release.BillOfLadingKey([]string{"BL1"}), ReleaseIdentification: "R-" + container}
}

// TestChainOfCustody: shipping agent → forwarder → transport operator, with accepts, a decline, a
// revoke before acceptance, a refused revoke after it, and the agent's commercial revoke from the
// middle of the chain; for each step exactly who is notified.
func TestChainOfCustody(t *testing.T) {
	h := newHarness(t)
	c := "CAIU7654324"
	h.released(c)

	s := h.ok(h.one(sa1, "Transfer", c, sa1, rp, nil))
	eq(t, "SA transfers to the forwarder", h.sent(s, 2), sa1+" ReleaseRight Transferred Transfer", rp+" ReleaseRight Transferred Transfer")

	s = h.ok(h.one(sa1, "Transfer", c, sa1, tro, nil))
	eq(t, "a second transfer while one is pending", h.sent(s, 1), sa1+" ReleaseRight NotValidated  errors")

	s = h.ok(h.bulk(rp, "Decline", rightItem(c, sa1, rp)))
	eq(t, "the forwarder declines", h.sent(s, 2), sa1+" ReleaseRight DeclinedByNextParty Decline", rp+" ReleaseRight DeclinedByNextParty Decline")

	s = h.ok(h.one(sa1, "Transfer", c, sa1, rp, nil))
	h.sent(s, 2)
	s = h.ok(h.one(sa1, "Revoke", c, sa1, rp, nil))
	eq(t, "the agent revokes before acceptance", h.sent(s, 2), sa1+" ReleaseRight RevokedByPreviousParty Revoke", rp+" ReleaseRight RevokedByPreviousParty Revoke")

	s = h.ok(h.bulk(rp, "Accept", rightItem(c, sa1, rp)))
	eq(t, "accept of a revoked transfer", h.sent(s, 1), rp+" ReleaseRight NotValidated  errors")

	h.sent(h.ok(h.one(sa1, "Transfer", c, sa1, rp, nil)), 2)
	s = h.ok(h.bulk(rp, "Accept", rightItem(c, sa1, rp)))
	eq(t, "the forwarder accepts", h.sent(s, 2), sa1+" ReleaseRight AcceptedByNextParty Accept", rp+" ReleaseRight AcceptedByNextParty Accept")

	s = h.ok(h.one(sa1, "Revoke", c, sa1, rp, nil))
	eq(t, "revoke after acceptance is refused", h.sent(s, 1), sa1+" ReleaseRight NotValidated  errors")

	s = h.ok(h.one(rp, "Transfer", c, rp, tro, nil))
	eq(t, "the forwarder transfers to the transport operator", h.sent(s, 3),
		sa1+" ReleaseRight Transferred Transfer", rp+" ReleaseRight Transferred Transfer", tro+" ReleaseRight Transferred Transfer")
	s = h.ok(h.bulk(tro, "Accept", rightItem(c, rp, tro)))
	eq(t, "the transport operator accepts", h.sent(s, 3),
		sa1+" ReleaseRight AcceptedByNextParty Accept", rp+" ReleaseRight AcceptedByNextParty Accept", tro+" ReleaseRight AcceptedByNextParty Accept")

	// Blocked releases can still be transferred.
	h.sent(h.sa(body("Block", map[string]any{"equipmentNumber": c, "releaseIdentification": "R-" + c})), 3)
	s = h.ok(h.one(tro, "Transfer", c, tro, rp, nil))
	h.sent(s, 3)

	// The agent's commercial revoke from the middle of the chain: the holder and the pending
	// receiver lose the right and are told.
	s = h.sa(body("Revoke", map[string]any{"equipmentNumber": c, "releaseIdentification": "R-" + c, "terminalCode": nil}))
	eq(t, "commercial revoke from the middle of the chain", h.sent(s, 3),
		sa1+" ReleaseRight RevokedByPreviousParty Revoke", tro+" ReleaseRight RevokedByPreviousParty Revoke", rp+" ReleaseRight RevokedByPreviousParty Revoke")

	// The chain of custody keeps every hop.
	hist, _ := h.st.History(context.Background(), "BEANR", c)
	l, _ := h.st.Load(context.Background(), storeRef(c), "none", 0)
	cur := l.Release
	chain, err := h.st.Hops(context.Background(), "BEANR", c, cur.ReleaseID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var hops []string
	for _, hp := range chain {
		hops = append(hops, hp.Action+":"+hp.From+">"+hp.To)
	}
	want := []string{"Release:>" + sa1, "Transfer:" + sa1 + ">" + rp, "Decline:" + rp + ">" + sa1, "Transfer:" + sa1 + ">" + rp, "Revoke:" + sa1 + ">" + rp,
		"Transfer:" + sa1 + ">" + rp, "Accept:" + sa1 + ">" + rp, "Transfer:" + rp + ">" + tro, "Accept:" + rp + ">" + tro,
		"Transfer:" + tro + ">" + rp, "CommercialRevoke:" + tro + ">" + sa1}
	if fmt.Sprint(hops) != fmt.Sprint(want) {
		t.Errorf("chain:\n got  %v\n want %v", hops, want)
	}
	if cur.Right.Holder != sa1 || cur.Right.Status != release.StatusRevoked || len(hist) < 14 {
		t.Errorf("final right %+v, %d outcomes", cur.Right, len(hist))
	}
	h.countersAgree(sa1, rp, tro)
	h.sent(h.sa(body("Delete", map[string]any{"equipmentNumber": c, "releaseIdentification": "R-" + c, "terminalCode": nil})), 2)
	h.countersAgree(sa1, rp, tro)
}

// countersAgree: the counted total of every party's rights (unfiltered lists) equals a full read of
// its memberships (a filter every container matches).
func (h *harness) countersAgree(parties ...string) {
	h.t.Helper()
	for _, p := range parties {
		counted := h.list(p, nil).TotalRows
		read := h.list(p, map[string]string{"equipmentnumberfilter": "U"}).TotalRows
		if counted != read {
			h.t.Errorf("%s: counter says %d rights, memberships say %d", p, counted, read)
		}
	}
}

// TestReleaseToBlocksTheAgentsTransfer: a Release with releaseTo starts a pending transfer; the
// agent's own Transfer is refused until it revokes it.
func TestReleaseToBlocksTheAgentsTransfer(t *testing.T) {
	h := newHarness(t)
	c := "CAIU7654324"
	h.sent(h.sa(body("Release", map[string]any{"equipmentNumber": c, "releaseIdentification": "R-" + c, "releaseTo": ref(rp)})), 4)
	eq(t, "transfer while releaseTo is pending", h.sent(h.ok(h.one(sa1, "Transfer", c, sa1, tro, nil)), 1), sa1+" ReleaseRight NotValidated  errors")
	h.sent(h.ok(h.one(sa1, "Revoke", c, sa1, rp, nil)), 2)
	eq(t, "transfer after revoking releaseTo", h.sent(h.ok(h.one(sa1, "Transfer", c, sa1, tro, nil)), 2),
		sa1+" ReleaseRight Transferred Transfer", tro+" ReleaseRight Transferred Transfer")
}

// TestBulkMixesValidAndInvalidItems: each item applies or fails on its own, under one reference.
func TestBulkMixesValidAndInvalidItems(t *testing.T) {
	h := newHarness(t)
	good1, good2, none := "CAIU7654324", "CAIU1234561", "CSQU3054383"
	h.released(good1)
	h.released(good2)
	wrongTerminal := rightItem(good2, sa1, rp)
	wrongTerminal["terminalCode"] = "0100"
	s := h.ok(h.bulk(sa1, "Transfer", rightItem(good1, sa1, rp), wrongTerminal, rightItem(none, sa1, rp), rightItem(good2, sa1, tro)))
	eq(t, "bulk", h.sent(s, 6),
		sa1+" ReleaseRight Transferred Transfer", rp+" ReleaseRight Transferred Transfer",
		sa1+" ReleaseRight NotValidated  errors", sa1+" ReleaseRight NotValidated  errors",
		sa1+" ReleaseRight Transferred Transfer", tro+" ReleaseRight Transferred Transfer")
	if _, _, pending := h.holderOf(good2); pending != tro {
		t.Errorf("the failed item changed the right: pending to %s", pending)
	}
}

func TestRightSynchronousChecks(t *testing.T) {
	h := newHarness(t)
	c := "CAIU7654324"
	for name, got := range map[string]int{
		"route and body disagree": func() int {
			s, _, d := h.one(sa1, "Transfer", c, sa1, rp, map[string]any{"equipmentNumber": "CAIU1234561"})
			checkMismatch(t, d)
			return s
		}(),
		"releaseFrom is not the caller": func() int { s, _, _ := h.one(sa1, "Transfer", c, rp, tro, nil); return s }(),
		"accept for someone else":       func() int { s, _, _ := h.bulk(sa1, "Accept", rightItem(c, rp, tro)); return s }(),
		"unknown action on E3":          func() int { s, _, _ := h.one(sa1, "Accept", c, sa1, rp, nil); return s }(),
		"unknown action on E4":          func() int { s, _, _ := h.bulk(sa1, "Explode", rightItem(c, sa1, rp)); return s }(),
		"empty bulk":                    func() int { s, _, _ := h.bulk(sa1, "Transfer"); return s }(),
		"oversized bulk": func() int {
			var items []map[string]any
			for i := 0; i < 101; i++ {
				items = append(items, rightItem(c, sa1, rp))
			}
			s, _, _ := h.bulk(sa1, "Transfer", items...)
			return s
		}(),
		"bad container in an item": func() int { s, _, _ := h.bulk(sa1, "Transfer", rightItem("CAIU7654321", sa1, rp)); return s }(),
		"terminal operator":        func() int { s, _, _ := h.one(top, "Transfer", c, top, rp, nil); return s }(),
	} {
		want := 400
		switch name {
		case "releaseFrom is not the caller", "accept for someone else", "terminal operator":
			want = 401
		}
		if got != want {
			t.Errorf("%s: %d, want %d", name, got, want)
		}
	}
}

func checkMismatch(t *testing.T, doc map[string]any) {
	if doc["detail"] != "Route parameter 'EquipmentNumber' does not match with EquipmentNumber from body" {
		t.Errorf("mismatch text: %v", doc["detail"])
	}
}

// TestConflictingActionsApplyExactlyOnce races conflicting actions on one right straight into the
// consumer (as two queues or two consumers would): whatever the timing, exactly one applies.
func TestConflictingActionsApplyExactlyOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rounds := []struct {
		name string
		a, b func(c string) release.Command
	}{
		{"two accepts", func(c string) release.Command { return rightCmd(c, release.ActAccept, rp, sa1, rp) }, func(c string) release.Command { return rightCmd(c, release.ActAccept, rp, sa1, rp) }},
		{"accept against revoke", func(c string) release.Command { return rightCmd(c, release.ActAccept, rp, sa1, rp) }, func(c string) release.Command { return rightCmd(c, release.ActRightRevoke, sa1, sa1, rp) }},
		{"accept against decline", func(c string) release.Command { return rightCmd(c, release.ActAccept, rp, sa1, rp) }, func(c string) release.Command { return rightCmd(c, release.ActDecline, rp, sa1, rp) }},
	}
	for i, r := range rounds {
		for rep := 0; rep < 5; rep++ {
			c := release.WithCheckDigit(fmt.Sprintf("RACU%03d%03d", i, rep))
			h.released(c)
			h.sent(h.ok(h.one(sa1, "Transfer", c, sa1, rp, nil)), 2)
			a, b := r.a(c), r.b(c)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for j, cmd := range []release.Command{a, b} {
				wg.Add(1)
				go func() { defer wg.Done(); errs[j] = h.consumer.Apply(ctx, cmd) }()
			}
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("%s: %v", r.name, errs)
			}
			hist, _ := h.st.History(ctx, "BEANR", c)
			applied := 0
			for _, o := range hist {
				if o.PublicReferenceID == a.PublicReferenceID || o.PublicReferenceID == b.PublicReferenceID {
					if o.Applied {
						applied++
					} else if len(o.Errors) == 0 {
						t.Errorf("%s: refused without a reason", r.name)
					}
				}
			}
			if applied != 1 {
				t.Fatalf("%s (round %d): %d actions applied, want exactly 1", r.name, rep, applied)
			}
		}
	}
	// Two transfers by the holder to different parties: one pending transfer at a time.
	c := "CSQU3054383"
	h.released(c)
	a, b := rightCmd(c, release.ActTransfer, sa1, sa1, rp), rightCmd(c, release.ActTransfer, sa1, sa1, tro)
	var wg sync.WaitGroup
	for _, cmd := range []release.Command{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = h.consumer.Apply(ctx, cmd) }()
	}
	wg.Wait()
	if _, _, pending := h.holderOf(c); pending != rp && pending != tro {
		t.Fatalf("no transfer pending after racing two")
	}
	hist, _ := h.st.History(ctx, "BEANR", c)
	applied := 0
	for _, o := range hist {
		if o.Action == release.ActTransfer && o.Applied {
			applied++
		}
	}
	if applied != 1 {
		t.Fatalf("two transfers: %d applied", applied)
	}
}

var cmdSeq int

func rightCmd(container string, act release.Action, caller, from, to string) release.Command {
	cmdSeq++
	it := release.RightItem{ReleaseIdentification: "R-" + container, EquipmentNumber: container, BillOfLadingNumbers: []string{"BL1"}, PortLoCode: "BEANR",
		TerminalCode: "01700", ReleaseFrom: &release.PartyRef{IdentificationType: "NxtEntityId", IdentificationCode: from},
		ReleaseTo: &release.PartyRef{IdentificationType: "NxtEntityId", IdentificationCode: to}}
	return it.Command(act, fmt.Sprintf("00000000-0000-4000-8000-%012d", cmdSeq), nil, caller, 0)
}

// TestFifteenHundredRightActionsOnOneRelease: a right passed back and forth 1,500 times (with the
// longest reasons) keeps a release of fixed size: its chain of custody is stored hop by hop, E5
// answers with the newest hops and the chain's length, and Delete still applies. The commands go
// straight to the consumer's Apply, as its queue handler calls it.
func TestFifteenHundredRightActionsOnOneRelease(t *testing.T) {
	h := newVolumeHarness(t)
	ctx := context.Background()
	c := "CAIU7654324"
	apply := func(raw []byte) release.Command {
		req, err := release.Decode(raw, release.ParsePorts("BEANR"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := release.Command{PublicReferenceID: uuid.NewString(), Requester: sa1, CarrierID: sa1, Action: req.ActionType, Request: req, AcceptedAt: h.clock()}
		if err := h.consumer.Apply(ctx, cmd); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	apply(body("Release", map[string]any{"equipmentNumber": c, "releaseIdentification": "R-" + c}))
	reason := strings.Repeat("r", release.MaxReasonChars)
	for i := 0; i < 750; i++ {
		for _, a := range []release.Action{release.ActTransfer, release.ActRightRevoke} {
			cmd := rightCmd(c, a, sa1, sa1, rp)
			cmd.Right.Reason = reason
			if err := h.consumer.Apply(ctx, cmd); err != nil {
				t.Fatalf("action %d: %v", 2*i, err)
			}
		}
	}
	l, err := h.st.Load(ctx, storeRef(c), "none", 0)
	cur := l.Release
	if err != nil || cur.Right.Hops != 1501 || cur.Right.Status != release.StatusRevoked {
		t.Fatalf("after 1,500 actions: %+v %v", cur, err)
	}
	raw, err := testenv.Backends().DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(h.table),
		Key: map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: "REL#BEANR#" + c},
			"sk": &dtypes.AttributeValueMemberS{Value: "ACTIVE#" + sa1 + "#" + cur.BillOfLadingKey}}})
	if err != nil || raw.Item == nil {
		t.Fatal(err)
	}
	if size := store.ItemSize(raw.Item); size > 4096 {
		t.Fatalf("the release item grew to %d bytes", size)
	}
	env, result := h.readRights(sa1, c, nil)
	var items []reads.Item
	if err := json.Unmarshal(result, &items); err != nil || env.Event != "Update" || len(items) != 1 {
		t.Fatalf("E5: %s %v", env.Event, err)
	}
	if it := items[0]; len(it.Chain) != reads.MaxDetailHops || it.ChainLength != 1501 || !it.ChainTruncated || it.Chain[len(it.Chain)-1].Seq != 1500 {
		t.Fatalf("E5 chain: %d hops, length %d, truncated %v", len(it.Chain), it.ChainLength, it.ChainTruncated)
	}
	del := apply(body("Delete", map[string]any{"equipmentNumber": c, "releaseIdentification": "R-" + c, "terminalCode": nil}))
	hist, err := h.st.History(ctx, "BEANR", c)
	if err != nil || len(hist) != 1502 {
		t.Fatalf("%d outcomes, %v", len(hist), err)
	}
	for _, o := range hist {
		if o.PublicReferenceID == del.PublicReferenceID && (!o.Applied || o.Action != release.ActDelete) {
			t.Fatalf("Delete after 1,500 actions: %+v", o)
		}
	}
	if l, err := h.st.Load(ctx, storeRef(c), "none", 0); err != nil || l.Release != nil {
		t.Fatalf("the release is still active after Delete: %v %v", l.Release, err)
	}
}
