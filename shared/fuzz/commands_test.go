package fuzz

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/commands"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

// commandRoute is E1, E3 or E4: a route whose call is accepted with all its commands (202) or
// refused with none.
type commandRoute struct {
	method, resource, path string
	params                 map[string]string
	handler                func(st *store.Store, acc *commands.Acceptor) apigw.Handler
}

var (
	ingestRoute = commandRoute{
		"POST", "/ingestion/v1/ingestion/{ingestionId}", "/ingestion/v1/ingestion/" + ingestionID, map[string]string{"ingestionId": ingestionID},
		func(st *store.Store, acc *commands.Acceptor) apigw.Handler {
			return (&commands.Ingest{IDs: st, Accept: acc, Ports: ports, Stage: stage, Now: time.Now}).Handle
		},
	}
	rightRoute = commandRoute{
		"PUT", "/certified-pickup/v1/{portLoCode}/containers/{equipmentNumber}/import/release-rights",
		"/certified-pickup/v1/BEANR/containers/CSQU3054383/import/release-rights", map[string]string{"portLoCode": "BEANR", "equipmentNumber": "CSQU3054383"},
		func(st *store.Store, acc *commands.Acceptor) apigw.Handler {
			return (&commands.Rights{IDs: st, Accept: acc, Ports: ports}).HandleOne
		},
	}
	bulkRoute = commandRoute{
		"PUT", "/certified-pickup/v1/{portLoCode}/containers/import/release-rights",
		"/certified-pickup/v1/BEANR/containers/import/release-rights", map[string]string{"portLoCode": "BEANR"},
		func(st *store.Store, acc *commands.Acceptor) apigw.Handler {
			return (&commands.Rights{IDs: st, Accept: acc, Ports: ports}).HandleBulk
		},
	}
)

// commandCall is one call of a command route and what it did.
type commandCall struct {
	answer
	cmds    []release.Command // queued by the call
	written int               // items the call added to the table
}

// callCommand calls the route as the caller, on db.
func callCommand(t testing.TB, db *memDB, r commandRoute, body, ref, key string) commandCall {
	t.Helper()
	before := len(db.items)
	st, q := store.New(db, table), &memQueue{}
	log, logs := newLog()
	acc := &commands.Acceptor{Store: st, Queue: q, Now: fixedClock, Log: log}
	ev := request(r.method, r.resource, r.path, r.params, map[string]string{
		"Content-Type": "application/json", apigw.ExternalRefHeader: ref, commands.IdempotencyKeyHeader: key,
	}, body)
	ev.RequestContext.Authorizer = callerContext()
	a := invoke(t, r.handler(st, acc), ev, logs)
	return commandCall{answer: a, cmds: queued(t, q), written: len(db.items) - before}
}

// The fixture's first call with replayKey: a later call with the key gets its answer again.
const (
	replayKey    = "fuzz-replayed-key"
	replayExtRef = "first-call"
)

// commandSeed is a seed input and the status it must get.
type commandSeed struct {
	name, body, ref, key string
	status               int
}

// fuzzCommand seeds and runs a command route's target: the fixture's first call with replayKey,
// the seeds (each must get its status), then every input. check judges a fresh acceptance's
// commands.
func fuzzCommand(f *testing.F, r commandRoute, first string, seeds []commandSeed, check func(t *testing.T, cmds []release.Command)) {
	base := fixture().clone()
	c := callCommand(f, base, r, first, replayExtRef, replayKey)
	want(f, "first call with "+replayKey, c.answer, 202)
	replayRef, _ := c.doc["publicReferenceId"].(string)
	seeds = append(seeds,
		commandSeed{"a retry answered again", first, "", replayKey, 202},
		commandSeed{"a retry as a structured-field string", first, "", `"` + replayKey + `"`, 202},
		commandSeed{"the key reused for another request", strings.Replace(first, "BL1", "BL9", 1), "", replayKey, 422},
		commandSeed{"empty body", "", "", "", 400},
		commandSeed{"JSON null", "null", "", "", 400},
		commandSeed{"an array", "[]", "", "", 400},
		commandSeed{"an empty object", "{}", "", "", 400},
		commandSeed{"two JSON values", first + first, "", "", 400},
		commandSeed{"deep nesting", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "", "", 400},
		commandSeed{"over 1 MiB", first + strings.Repeat(" ", catalog.MaxBodyBytes), "", "", 413},
		commandSeed{"External-Reference-Id of 101 characters", first, strings.Repeat("r", 101), "", 400},
		commandSeed{"External-Reference-Id with a control character", first, "ref\x07", "", 400},
		commandSeed{"External-Reference-Id of invalid UTF-8", first, "ref\xff\xfe", "", 202},
		commandSeed{"External-Reference-Id of 100 emoji", first, strings.Repeat("🚢", 100), "", 202},
		commandSeed{"Idempotency-Key of 256 characters", first, "", strings.Repeat("k", 256), 400},
		commandSeed{"Idempotency-Key beyond ASCII", first, "", "clé", 400},
		commandSeed{"Idempotency-Key an empty string", first, "", `""`, 400},
	)
	for _, s := range seeds {
		c := callCommand(f, base.clone(), r, s.body, s.ref, s.key)
		want(f, s.name, c.answer, s.status)
		// A body over the limit stops at one length check; in the corpus it would only slow the
		// fuzzer down (each mutation and minimisation of it copies a megabyte).
		if len(s.body) <= catalog.MaxBodyBytes {
			f.Add(s.body, s.ref, s.key)
		}
	}
	f.Fuzz(func(t *testing.T, body, ref, key string) {
		c := callCommand(t, base.clone(), r, body, ref, key)
		if cmds := accepted(t, c, ref, replayRef); cmds != nil {
			check(t, cmds)
		}
	})
}

// accepted checks the all-or-nothing rule and the 202's body, and returns the commands of a
// fresh acceptance (nil for a refused call and for a retry answered again).
func accepted(t *testing.T, c commandCall, ref, replayRef string) []release.Command {
	t.Helper()
	if c.status != 202 {
		if c.written != 0 || len(c.cmds) != 0 {
			t.Fatalf("a refused call (%d) wrote %d items and queued %d commands", c.status, c.written, len(c.cmds))
		}
		return nil
	}
	pub, _ := c.doc["publicReferenceId"].(string)
	if _, err := uuid.Parse(pub); err != nil {
		t.Fatalf("publicReferenceId %q: %s", pub, c.body)
	}
	if pub == replayRef {
		if c.written != 0 || len(c.cmds) != 0 || c.doc["externalReferenceId"] != replayExtRef {
			t.Fatalf("a retry wrote %d items, queued %d commands, answered %s", c.written, len(c.cmds), c.body)
		}
		return nil
	}
	echoes(t, c.answer, ref)
	// The acceptance, and the small item marking its commands queued.
	if c.written != 2 || len(c.cmds) == 0 {
		t.Fatalf("an accepted call wrote %d items and queued %d commands", c.written, len(c.cmds))
	}
	for i, cmd := range c.cmds {
		ext := ""
		if cmd.ExternalReferenceID != nil {
			ext = *cmd.ExternalReferenceID
		}
		if cmd.PublicReferenceID != pub || cmd.Requester != callerID || cmd.Item != i || !cmd.AcceptedAt.Equal(clock) ||
			(cmd.ExternalReferenceID != nil) != (ref != "") || (ref != "" && ext != asReceived(ref)) {
			t.Fatalf("queued command %d does not match the call: %+v", i, cmd)
		}
		keyFields(t, cmd)
	}
	return c.cmds
}

const validRelease = `{"releaseIdentification":"REL-1","releaseOrderReference":"RO-1","equipmentStatus":"Import","fullEmptyIndicator":"Full",
"vesselName":"MSC ANTWERP","voyageNumber":"V123","equipmentType":"45G1","isCarrierHaulage":false,"meansOfTransport":"Truck",
"billOfLadingNumbers":["BL1","BL2"],"terminalCode":"01700","actionType":"Release",
"carrier":{"identificationType":"Tin","identificationCode":"BE0403170008"},"releaseTo":{"identificationType":"NxtEntityId","identificationCode":"NXT200000002"},
"releaseDateTimeUtc":"2026-11-21T08:00:00Z","expirationDateTimeUtc":"2026-12-21T08:00:00Z","equipmentNumber":"CSQU3054383","portLoCode":"BEANR"}`

const validBlock = `{"actionType":"Block","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["BL1"],"portLoCode":"BEANR"}`

// FuzzIngest: whatever the body, External-Reference-Id and Idempotency-Key of an E1 call, the
// answer is a 202 or a 4xx problem document; a refused call accepts and queues nothing; an
// accepted one queues one command that keeps E1's rules, on the caller's own releases.
func FuzzIngest(f *testing.F) {
	fuzzCommand(f, ingestRoute, validRelease, []commandSeed{
		{"a Release", validRelease, "my-ref", "order-42", 202},
		{"a Block with the key fields", validBlock, "", "", 202},
		{"an emoji in vesselName", strings.Replace(validRelease, "MSC ANTWERP", "MSC 🚢 ANTWERP", 1), "", "", 202},
		{"names and values in other cases", strings.NewReplacer(`"actionType":"Release"`, `"ACTIONTYPE":"release"`, `"Import"`, `"IMPORT"`).Replace(validRelease), "", "", 202},
		{"duplicate keys (the last one counts)", strings.Replace(validBlock, `{"actionType":"Block"`, `{"actionType":"Delete","actionType":"Block"`, 1), "", "", 202},
		{"a control character", strings.Replace(validRelease, "REL-1", `REL\u0001`, 1), "", "", 400},
		{"an unknown field", strings.Replace(validBlock, `{`, `{"colour":"red",`, 1), "", "", 400},
		{"wrong types", strings.Replace(validRelease, `"isCarrierHaulage":false`, `"isCarrierHaulage":"false"`, 1), "", "", 400},
		{"a B/L list that is a string", strings.Replace(validBlock, `["BL1"]`, `"BL1"`, 1), "", "", 400},
		{"nulls", `{"actionType":null,"equipmentNumber":null,"billOfLadingNumbers":[null],"portLoCode":null}`, "", "", 400},
		{"5,000 B/L numbers", strings.Replace(validBlock, `["BL1"]`, `[`+strings.Repeat(`"BL1",`, 5000)+`"BL1"]`, 1), "", "", 400},
		{"another carrier", strings.Replace(validRelease, "BE0403170008", "BE0403170701", 1), "", "", 401},
		{"an Unblock with more than the key fields", strings.Replace(validRelease, `"Release"`, `"Unblock"`, 1), "", "", 405},
		{"a number beyond float64", strings.Replace(validBlock, `{`, `{"x":1e999,`, 1), "", "", 400},
	}, func(t *testing.T, cmds []release.Command) {
		c := cmds[0]
		r := c.Request
		if len(cmds) != 1 || c.Action != r.ActionType || c.CarrierID != callerID || c.Right != nil {
			t.Fatalf("E1 queued %d commands: %+v", len(cmds), c)
		}
		switch c.Action {
		case release.ActBlock, release.ActUnblock, release.ActRevoke, release.ActDelete:
		case release.ActRelease, release.ActUpdate:
			if r.Carrier == nil || !commands.Names(*r.Carrier, callerEntity()) || r.IsCarrierHaulage == nil || r.ReleaseDateTimeUtc == nil ||
				r.ExpirationDateTimeUtc == nil || !r.ExpirationDateTimeUtc.After(*r.ReleaseDateTimeUtc) || r.TerminalCode == "" || r.ReleaseIdentification == "" {
				t.Fatalf("accepted an incomplete %s: %+v", c.Action, r)
			}
		default:
			t.Fatalf("accepted action %q", c.Action)
		}
	})
}

const validTransfer = `{"releaseIdentification":"R1","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["BL1"],"portLoCode":"BEANR",
"terminalCode":"01700","actionType":"Transfer","releaseFrom":{"identificationType":"NxtEntityId","identificationCode":"NXT200000001"},
"releaseTo":{"identificationType":"Tin","identificationCode":"BE0403170701"}}`

// FuzzReleaseRight: the same for E3 (one release right, Transfer or Revoke): an accepted call
// queues one command on the route's container, from the caller.
func FuzzReleaseRight(f *testing.F) {
	fuzzCommand(f, rightRoute, validTransfer, []commandSeed{
		{"a Transfer", validTransfer, "my-ref", "order-42", 202},
		{"a Revoke, names in other cases", strings.NewReplacer(`"Transfer"`, `"revoke"`, `"NxtEntityId","identificationCode":"NXT200000001"`, `"nxtentityid","identificationCode":" nxt200000001 "`).Replace(validTransfer), "", "", 202},
		{"another container than the route's", strings.Replace(validTransfer, "CSQU3054383", "CAIU7654324", 1), "", "", 400},
		{"an Accept (E4 only)", strings.Replace(validTransfer, `"Transfer"`, `"Accept"`, 1), "", "", 400},
		{"an unknown field", strings.Replace(validTransfer, `{`, `{"colour":"red",`, 1), "", "", 400},
		{"releaseFrom null", strings.Replace(validTransfer, `"releaseFrom":{"identificationType":"NxtEntityId","identificationCode":"NXT200000001"}`, `"releaseFrom":null`, 1), "", "", 400},
		{"a party that is an array", strings.Replace(validTransfer, `"releaseTo":{"identificationType":"Tin","identificationCode":"BE0403170701"}`,
			`"releaseTo":[{"identificationType":"Tin","identificationCode":"BE0403170701"}]`, 1), "", "", 400},
		{"a control character in the reason", strings.Replace(validTransfer, `"R1"`, `"R1","reasonForAction":"a\u0000b"`, 1), "", "", 400},
		{"releaseFrom not the caller", strings.Replace(validTransfer, "NXT200000001", "NXT200000002", 1), "", "", 401},
	}, func(t *testing.T, cmds []release.Command) {
		c := cmds[0]
		if len(cmds) != 1 || (c.Action != release.ActTransfer && c.Action != release.ActRightRevoke) || c.Right == nil ||
			!commands.Names(c.Right.From, callerEntity()) || c.Request.PortLoCode != "BEANR" || c.Request.EquipmentNumber != "CSQU3054383" {
			t.Fatalf("E3 queued %d commands: %+v", len(cmds), c)
		}
	})
}

// rightItem is an E4 item offered by the other entity to the caller.
const rightItem = `{"releaseIdentification":"R%d","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["BL1"],"terminalCode":"01700",
"releaseFrom":{"identificationType":"Duns","identificationCode":"123456789"},"releaseTo":{"identificationType":"Vat","identificationCode":"BE0403170008"}}`

func bulk(action string, items int) string {
	its := make([]string, items)
	for i := range its {
		its[i] = fmt.Sprintf(rightItem, i)
	}
	return `{"portLoCode":"BEANR","actionType":"` + action + `","releaseRights":[` + strings.Join(its, ",") + `]}`
}

// FuzzReleaseRightsBulk: the same for E4 (1 to 100 release rights, one action): an accepted call
// queues one command per item, numbered in order, each with the caller on its side of the action.
func FuzzReleaseRightsBulk(f *testing.F) {
	fuzzCommand(f, bulkRoute, bulk("Accept", 2), []commandSeed{
		{"an Accept of one", bulk("Accept", 1), "my-ref", "order-42", 202},
		{"a Decline of 100", bulk("decline", 100), "", "", 202},
		{"101 items", bulk("Accept", 101), "", "", 400},
		{"no item", bulk("Accept", 0), "", "", 400},
		{"releaseRights null", `{"portLoCode":"BEANR","actionType":"Accept","releaseRights":null}`, "", "", 400},
		{"an item with its own action", strings.Replace(bulk("Accept", 1), `"terminalCode"`, `"actionType":"Decline","terminalCode"`, 1), "", "", 400},
		{"another port than the route's", strings.Replace(bulk("Accept", 1), `"BEANR"`, `"NLRTM"`, 1), "", "", 400},
		{"an unknown field", strings.Replace(bulk("Accept", 1), `{"portLoCode"`, `{"colour":1,"portLoCode"`, 1), "", "", 400},
		{"a Transfer from another", bulk("Transfer", 1), "", "", 401},
	}, func(t *testing.T, cmds []release.Command) {
		// The contract's limit, written out: the check must not move with the code's constant.
		if len(cmds) > 100 {
			t.Fatalf("E4 queued %d commands", len(cmds))
		}
		for _, c := range cmds {
			if c.Right == nil || (c.Action != release.ActTransfer && c.Action != release.ActAccept && c.Action != release.ActDecline && c.Action != release.ActRightRevoke) {
				t.Fatalf("E4 queued %+v", c)
			}
			mine := c.Right.From
			if c.Action == release.ActAccept || c.Action == release.ActDecline {
				mine = c.Right.To
			}
			if c.Action != cmds[0].Action || c.Request.PortLoCode != "BEANR" || !commands.Names(mine, callerEntity()) {
				t.Fatalf("E4 queued %+v", c)
			}
		}
	})
}
