package release

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/portcommunity/cpu/shared/problem"
)

// Release-right actions (E3, E4). The right's Revoke is another action than the commercial Revoke
// of E1, though both are "Revoke" on the wire.
const (
	ActTransfer    Action = "Transfer"
	ActAccept      Action = "Accept"
	ActDecline     Action = "Decline"
	ActRightRevoke Action = "RightRevoke"
)

// RightItem is one release right in an E3 body or an E4 releaseRights[] entry.
type RightItem struct {
	ReleaseIdentification string    `json:"releaseIdentification"`
	EquipmentNumber       string    `json:"equipmentNumber"`
	BillOfLadingNumbers   []string  `json:"billOfLadingNumbers"`
	PortLoCode            string    `json:"portLoCode,omitempty"`
	TerminalCode          string    `json:"terminalCode"`
	Carrier               *PartyRef `json:"carrier,omitempty"`
	ActionType            string    `json:"actionType,omitempty"`
	ReasonForAction       string    `json:"reasonForAction,omitempty"`
	ReleaseFrom           *PartyRef `json:"releaseFrom"`
	ReleaseTo             *PartyRef `json:"releaseTo"`
}

// Bulk is an E4 body.
type Bulk struct {
	PortLoCode    string      `json:"portLoCode"`
	ReleaseRights []RightItem `json:"releaseRights"`
	ActionType    string      `json:"actionType"`
}

// MaxBulk bounds the items of one E4 call.
const MaxBulk = 100

// RouteMismatch is the seed's text when the route and the body disagree.
func routeMismatch(port, container bool) error {
	var parts []string
	fields := map[string][]string{}
	if port {
		parts = append(parts, "Route parameter 'PortLoCode' does not match with PortLoCode from body")
		fields["PortLoCode"] = []string{parts[len(parts)-1]}
	}
	if container {
		parts = append(parts, "Route parameter 'EquipmentNumber' does not match with EquipmentNumber from body")
		fields["EquipmentNumber"] = []string{parts[len(parts)-1]}
	}
	return &problem.Error{Kind: problem.KindValidation, Detail: strings.Join(parts, ";"), Fields: fields}
}

func strict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problem.New(problem.KindBadRequest, "the body is not a valid request: %s", jsonDetail(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return problem.New(problem.KindBadRequest, "the body holds more than one JSON value")
	}
	return nil
}

func jsonDetail(err error) string {
	s := err.Error()
	if strings.HasPrefix(s, "json: unknown field") {
		return strings.TrimPrefix(s, "json: ")
	}
	return jsonError(err)
}

// rightActions maps the wire names of release-right actions (any case) to actions; the right's
// Revoke is "Revoke" on the wire.
var rightActions = map[string]Action{"transfer": ActTransfer, "accept": ActAccept, "decline": ActDecline, "revoke": ActRightRevoke}

// rightAction reads an actionType that the endpoint allows, or names the field and the values.
func rightAction(s string, allowed ...Action) (Action, error) {
	act := rightActions[strings.ToLower(strings.TrimSpace(s))]
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if a == act {
			return act, nil
		}
		names[i] = strings.TrimPrefix(string(a), "Right")
	}
	return "", problem.Field("actionType", "'actionType' must be one of %s on this endpoint.", strings.Join(names, ", "))
}

// DecodeTransfer reads an E3 body for the route's port and container: Transfer or Revoke.
func DecodeTransfer(body []byte, routePort, routeContainer string, ports Ports) (Action, RightItem, error) {
	var it RightItem
	if err := strict(body, &it); err != nil {
		return "", it, err
	}
	routePort, routeContainer = strings.ToUpper(routePort), NormalizeContainer(routeContainer)
	if pm, cm := strings.ToUpper(strings.TrimSpace(it.PortLoCode)) != routePort, NormalizeContainer(it.EquipmentNumber) != routeContainer; pm || cm {
		return "", it, routeMismatch(pm, cm)
	}
	act, err := rightAction(it.ActionType, ActTransfer, ActRightRevoke)
	if err != nil {
		return "", it, err
	}
	var v problem.Validation
	validateRight(&v, "", &it, ports, true)
	return act, it, v.Err()
}

// DecodeBulk reads an E4 body: one action for 1 to 100 items.
func DecodeBulk(body []byte, routePort string, ports Ports) (Action, Bulk, error) {
	var b Bulk
	if err := strict(body, &b); err != nil {
		return "", b, err
	}
	if !strings.EqualFold(strings.TrimSpace(b.PortLoCode), routePort) {
		return "", b, routeMismatch(true, false)
	}
	act, err := rightAction(b.ActionType, ActTransfer, ActAccept, ActDecline, ActRightRevoke)
	if err != nil {
		return "", b, err
	}
	var v problem.Validation
	if n := len(b.ReleaseRights); n == 0 || n > MaxBulk {
		v.Add("releaseRights", "'releaseRights' must hold 1 to %d items; it holds %d.", MaxBulk, n)
		return "", b, v.Err()
	}
	for i := range b.ReleaseRights {
		it := &b.ReleaseRights[i]
		if it.ActionType != "" || it.PortLoCode != "" {
			v.Add(fmt.Sprintf("releaseRights[%d]", i), "an item carries neither actionType nor portLoCode: the call names them once.")
		}
		it.PortLoCode = b.PortLoCode
		validateRight(&v, fmt.Sprintf("releaseRights[%d].", i), it, ports, false)
	}
	b.PortLoCode = strings.ToUpper(strings.TrimSpace(b.PortLoCode))
	return act, b, v.Err()
}

func validateRight(v *problem.Validation, prefix string, it *RightItem, ports Ports, withCarrier bool) {
	it.EquipmentNumber = NormalizeContainer(it.EquipmentNumber)
	if !ValidContainerNumber(it.EquipmentNumber) {
		v.Add(prefix+"equipmentNumber", "'equipmentNumber' must be an ISO 6346 container number with a valid check digit.")
	}
	it.PortLoCode = strings.ToUpper(strings.TrimSpace(it.PortLoCode))
	if !ValidPortFormat(it.PortLoCode) || !ports[it.PortLoCode] {
		v.Add(prefix+"portLoCode", "'portLoCode' must be a port served by this platform.")
	}
	validateBLs(v, prefix+"billOfLadingNumbers", it.BillOfLadingNumbers)
	it.ReleaseIdentification = strings.TrimSpace(it.ReleaseIdentification)
	if it.ReleaseIdentification == "" {
		v.Add(prefix+"releaseIdentification", "'releaseIdentification' is required.")
	}
	checkText(v, prefix+"releaseIdentification", it.ReleaseIdentification, MaxIdentifierChars)
	it.TerminalCode = strings.ToUpper(strings.TrimSpace(it.TerminalCode))
	if it.TerminalCode == "" || !terminalPattern.MatchString(it.TerminalCode) {
		v.Add(prefix+"terminalCode", "'terminalCode' is required: 1 to 10 letters or digits.")
	}
	checkText(v, prefix+"reasonForAction", it.ReasonForAction, MaxReasonChars)
	for name, p := range map[string]**PartyRef{"releaseFrom": &it.ReleaseFrom, "releaseTo": &it.ReleaseTo, "carrier": &it.Carrier} {
		if name == "carrier" && (!withCarrier || *p == nil) {
			continue
		}
		validateParty(v, prefix+name, *p, true)
		if *p != nil {
			if n, ok := (*p).Normalize(); ok {
				*p = &n
			}
		}
	}
}

// RightArgs are the release-right part of a command (E3, E4).
type RightArgs struct {
	From    PartyRef  `json:"releaseFrom"`
	To      PartyRef  `json:"releaseTo"`
	Reason  string    `json:"reasonForAction,omitempty"`
	Carrier *PartyRef `json:"carrier,omitempty"`
}

// Command turns a right item into a command of the caller.
func (it RightItem) Command(a Action, publicRef string, extRef *string, caller string, item int) Command {
	return Command{
		PublicReferenceID: publicRef, ExternalReferenceID: extRef, Requester: caller, Action: a, Item: item,
		Request: Request{
			ReleaseIdentification: it.ReleaseIdentification, EquipmentNumber: it.EquipmentNumber, BillOfLadingNumbers: it.BillOfLadingNumbers,
			PortLoCode: it.PortLoCode, TerminalCode: it.TerminalCode, ActionType: a,
		},
		Right: &RightArgs{From: *it.ReleaseFrom, To: *it.ReleaseTo, Reason: it.ReasonForAction, Carrier: it.Carrier},
	}
}
