package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/portcommunity/cpu/shared/problem"
)

// Action is an E1 actionType.
type Action string

const (
	ActRelease Action = "Release"
	ActUpdate  Action = "Update"
	ActBlock   Action = "Block"
	ActUnblock Action = "Unblock"
	ActRevoke  Action = "Revoke"
	ActDelete  Action = "Delete"
	// ActExpire is the platform's own action when expirationDateTimeUtc passes (never from E1).
	ActExpire Action = "Expire"
)

var ingestionActions = []Action{ActRelease, ActUpdate, ActBlock, ActUnblock, ActRevoke, ActDelete}

// PartyRef names a party (contract §1).
type PartyRef struct {
	IdentificationType string `json:"identificationType"`
	IdentificationCode string `json:"identificationCode"`
}

// PartyTypes are the identification types, matched case-insensitively; Vat is an alias of Tin.
var PartyTypes = []string{"NxtEntityId", "Eori", "Duns", "Tin", "Apcs", "Scac"}

// Normalize returns the canonical type ("" when unknown) and the upper-cased code.
func (p PartyRef) Normalize() (PartyRef, bool) {
	t := strings.TrimSpace(p.IdentificationType)
	if strings.EqualFold(t, "Vat") {
		t = "Tin"
	}
	for _, k := range PartyTypes {
		if strings.EqualFold(k, t) {
			return PartyRef{IdentificationType: k, IdentificationCode: strings.ToUpper(strings.TrimSpace(p.IdentificationCode))}, true
		}
	}
	return p, false
}

// Request is an E1 body (seed 001). Fields the seed lists for Release and Update; Block, Unblock,
// Revoke and Delete carry the key fields only.
type Request struct {
	ReleaseIdentification string     `json:"releaseIdentification"`
	ReleaseOrderReference string     `json:"releaseOrderReference,omitempty"`
	EmptyReturnReference  string     `json:"emptyReturnReference,omitempty"`
	EquipmentSupplier     string     `json:"equipmentSupplier,omitempty"`
	EquipmentStatus       string     `json:"equipmentStatus,omitempty"`
	FullEmptyIndicator    string     `json:"fullEmptyIndicator,omitempty"`
	EquipmentOperator     string     `json:"equipmentOperator,omitempty"`
	VesselName            string     `json:"vesselName,omitempty"`
	VesselNumber          string     `json:"vesselNumber,omitempty"`
	StayNumber            string     `json:"stayNumber,omitempty"`
	VesselCallSign        string     `json:"vesselCallSign,omitempty"`
	VoyageNumber          string     `json:"voyageNumber,omitempty"`
	EquipmentType         string     `json:"equipmentType,omitempty"`
	IsCarrierHaulage      *bool      `json:"isCarrierHaulage,omitempty"`
	MeansOfTransport      string     `json:"meansOfTransport,omitempty"`
	BillOfLadingNumbers   []string   `json:"billOfLadingNumbers"`
	TerminalCode          string     `json:"terminalCode,omitempty"`
	ActionType            Action     `json:"actionType"`
	Carrier               *PartyRef  `json:"carrier,omitempty"`
	ReleaseTo             *PartyRef  `json:"releaseTo,omitempty"`
	ReleaseDateTimeUtc    *time.Time `json:"releaseDateTimeUtc,omitempty"`
	ExpirationDateTimeUtc *time.Time `json:"expirationDateTimeUtc,omitempty"`
	EquipmentNumber       string     `json:"equipmentNumber"`
	PortLoCode            string     `json:"portLoCode"`
}

// keyFields may appear on every action (contract §4); anything else on Unblock or Delete is a 405.
var keyFields = map[string]bool{
	"releaseidentification": true, "equipmentnumber": true, "equipmenttype": true, "billofladingnumbers": true,
	"portlocode": true, "terminalcode": true, "actiontype": true,
}

// wire mirrors Request with raw values, so that type errors name their field.
type wire map[string]json.RawMessage

var (
	equipmentTypePattern = regexp.MustCompile(`^([0-9A-Z]{4}|CONTAINER)$`)
	terminalPattern      = regexp.MustCompile(`^[0-9A-Z]{1,10}$`)
	enumValues           = map[string][]string{
		"equipmentStatus":    {"Import", "Export", "Transhipment"},
		"fullEmptyIndicator": {"Full", "Empty"},
	}
)

// DefaultValidity is how long a release is valid when it names no expiration.
const DefaultValidity = 60 * 24 * time.Hour

// Decode reads and validates an E1 body: 400 for malformed JSON, unknown fields, wrong types and
// broken rules (each named by its field), 405 for anything beyond the key fields on Unblock or
// Delete. It normalises what it accepts (container number, enums, B/L order kept).
func Decode(body []byte, ports Ports) (Request, error) {
	var v problem.Validation
	var raw wire
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return Request{}, problem.New(problem.KindBadRequest, "the body is not a JSON object: %s", jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Request{}, problem.New(problem.KindBadRequest, "the body holds more than one JSON value")
	}
	present := map[string]string{} // lower-cased name → name as sent
	for name := range raw {
		present[strings.ToLower(name)] = name
	}
	var r Request
	known := knownFields()
	for lower, name := range present {
		field, ok := known[lower]
		if !ok {
			v.Add(name, "'%s' is not a field of this request.", name)
			continue
		}
		if string(raw[name]) == "null" {
			continue
		}
		if err := json.Unmarshal(raw[name], field(&r)); err != nil {
			v.Add(field0(name), "'%s' has the wrong type: %s.", name, jsonError(err))
		}
	}
	if err := v.Err(); err != nil {
		return Request{}, err
	}

	action, ok := parseAction(string(r.ActionType))
	if !ok {
		v.Add("actionType", "'actionType' must be one of Release, Update, Block, Unblock, Revoke, Delete.")
		return Request{}, v.Err()
	}
	r.ActionType = action
	if action == ActUnblock || action == ActDelete {
		var extra []string
		for lower, name := range present {
			if !keyFields[lower] {
				extra = append(extra, name)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			return Request{}, &problem.Error{Kind: problem.KindMethod,
				Detail: fmt.Sprintf("%s may carry only the key fields; not allowed: %s", action, strings.Join(extra, ", "))}
		}
	}
	if action == ActBlock || action == ActRevoke {
		for lower, name := range present {
			if !keyFields[lower] {
				v.Add(name, "'%s' is not allowed on %s: only the key fields are.", name, action)
			}
		}
	}

	r.EquipmentNumber = NormalizeContainer(r.EquipmentNumber)
	switch {
	case r.EquipmentNumber == "":
		v.Add("equipmentNumber", "'equipmentNumber' is required.")
	case !ValidContainerNumber(r.EquipmentNumber):
		v.Add("equipmentNumber", "'equipmentNumber' must be an ISO 6346 container number with a valid check digit.")
	}
	r.PortLoCode = strings.ToUpper(strings.TrimSpace(r.PortLoCode))
	switch {
	case r.PortLoCode == "":
		v.Add("portLoCode", "'portLoCode' is required.")
	case !ValidPortFormat(r.PortLoCode):
		v.Add("portLoCode", "'portLoCode' must be a UN/LOCODE (two letters and three letters or digits 2-9).")
	case !ports[r.PortLoCode]:
		v.Add("portLoCode", "'portLoCode' %s is not a port served by this platform.", r.PortLoCode)
	}
	validateBLs(&v, "billOfLadingNumbers", r.BillOfLadingNumbers)
	r.ReleaseIdentification = strings.TrimSpace(r.ReleaseIdentification)
	checkText(&v, "releaseIdentification", r.ReleaseIdentification, MaxIdentifierChars)
	r.TerminalCode = strings.ToUpper(strings.TrimSpace(r.TerminalCode))
	if r.TerminalCode != "" && !terminalPattern.MatchString(r.TerminalCode) {
		v.Add("terminalCode", "'terminalCode' must be 1 to 10 letters or digits.")
	}
	if r.EquipmentType != "" {
		r.EquipmentType = strings.ToUpper(strings.TrimSpace(r.EquipmentType))
		if !equipmentTypePattern.MatchString(r.EquipmentType) {
			v.Add("equipmentType", "'equipmentType' must be an ISO size-type code (e.g. 22G1, 45R1) or Container.")
		}
		if r.EquipmentType == "CONTAINER" {
			r.EquipmentType = "Container"
		}
	}

	if action == ActRelease || action == ActUpdate {
		if r.ReleaseIdentification == "" {
			v.Add("releaseIdentification", "'releaseIdentification' is required.")
		}
		if r.TerminalCode == "" && !v.Has("terminalCode") {
			v.Add("terminalCode", "'terminalCode' is required.")
		}
		if r.IsCarrierHaulage == nil {
			v.Add("isCarrierHaulage", "'isCarrierHaulage' is required.")
		}
		validateParty(&v, "carrier", r.Carrier, true)
		validateParty(&v, "releaseTo", r.ReleaseTo, false)
		if r.Carrier != nil {
			if p, ok := r.Carrier.Normalize(); ok {
				r.Carrier = &p
			}
		}
		if r.ReleaseTo != nil {
			if p, ok := r.ReleaseTo.Normalize(); ok {
				r.ReleaseTo = &p
			}
		}
		if r.ReleaseDateTimeUtc == nil {
			v.Add("releaseDateTimeUtc", "'releaseDateTimeUtc' is required.")
		}
		checkUTC(&v, raw, present, "releaseDateTimeUtc")
		checkUTC(&v, raw, present, "expirationDateTimeUtc")
		if r.ReleaseDateTimeUtc != nil && r.ExpirationDateTimeUtc != nil && !r.ExpirationDateTimeUtc.After(*r.ReleaseDateTimeUtc) {
			v.Add("expirationDateTimeUtc", "'expirationDateTimeUtc' must be after 'releaseDateTimeUtc'.")
		}
		for field, allowed := range enumValues {
			val := map[string]*string{"equipmentStatus": &r.EquipmentStatus, "fullEmptyIndicator": &r.FullEmptyIndicator}[field]
			if *val == "" {
				continue
			}
			canon := ""
			for _, a := range allowed {
				if strings.EqualFold(a, strings.TrimSpace(*val)) {
					canon = a
				}
			}
			if canon == "" {
				v.Add(field, "'%s' must be one of %s.", field, strings.Join(allowed, ", "))
			}
			*val = canon
		}
		for field, val := range map[string]string{
			"releaseOrderReference": r.ReleaseOrderReference, "emptyReturnReference": r.EmptyReturnReference,
			"equipmentSupplier": r.EquipmentSupplier, "equipmentOperator": r.EquipmentOperator, "vesselName": r.VesselName,
			"vesselNumber": r.VesselNumber, "stayNumber": r.StayNumber, "vesselCallSign": r.VesselCallSign,
			"voyageNumber": r.VoyageNumber, "meansOfTransport": r.MeansOfTransport,
		} {
			checkText(&v, field, val, MaxFreeTextChars)
		}
	}
	if err := v.Err(); err != nil {
		return Request{}, err
	}
	if r.ReleaseDateTimeUtc != nil {
		t := r.ReleaseDateTimeUtc.UTC()
		r.ReleaseDateTimeUtc = &t
		if r.ExpirationDateTimeUtc == nil {
			exp := t.Add(DefaultValidity)
			r.ExpirationDateTimeUtc = &exp
		}
	}
	if r.ExpirationDateTimeUtc != nil {
		t := r.ExpirationDateTimeUtc.UTC()
		r.ExpirationDateTimeUtc = &t
	}
	return r, nil
}

func parseAction(s string) (Action, bool) {
	for _, a := range ingestionActions {
		if strings.EqualFold(string(a), strings.TrimSpace(s)) {
			return a, true
		}
	}
	return "", false
}

func validateBLs(v *problem.Validation, field string, bls []string) {
	if len(bls) == 0 {
		v.Add(field, "'billOfLadingNumbers' must hold at least one number.")
		return
	}
	if len(bls) > MaxBillsOfLading {
		v.Add(field, "'billOfLadingNumbers' must hold at most %d numbers; it holds %d.", MaxBillsOfLading, len(bls))
		return
	}
	seen := map[string]bool{}
	for i, bl := range bls {
		bl = strings.TrimSpace(bl)
		bls[i] = bl
		switch {
		case bl == "":
			v.Add(field, "'billOfLadingNumbers' must not hold an empty number.")
		case chars(bl) > MaxIdentifierChars:
			v.Add(field, "'billOfLadingNumbers' holds %q, longer than %d characters.", bl, MaxIdentifierChars)
		case !Plain(bl):
			v.Add(field, "'billOfLadingNumbers' must not contain control characters.")
		case seen[strings.ToUpper(bl)]:
			v.Add(field, "'billOfLadingNumbers' holds %q twice.", bl)
		}
		seen[strings.ToUpper(bl)] = true
	}
}

func validateParty(v *problem.Validation, field string, p *PartyRef, required bool) {
	if p == nil {
		if required {
			v.Add(field, "'%s' is required.", field)
		}
		return
	}
	if _, ok := p.Normalize(); !ok {
		v.Add(field+".identificationType", "'identificationType' must be one of NxtEntityId, Eori, Duns, Tin (or Vat), Apcs, Scac.")
	}
	if c := strings.TrimSpace(p.IdentificationCode); c == "" || chars(c) > MaxIdentifierChars || !Plain(c) {
		v.Add(field+".identificationCode", "'identificationCode' must be 1 to %d characters, without control characters.", MaxIdentifierChars)
	}
}

// checkUTC insists on an RFC 3339 timestamp in UTC ("Z" or +00:00), as the contract says.
func checkUTC(v *problem.Validation, raw wire, present map[string]string, field string) {
	name, ok := present[strings.ToLower(field)]
	if !ok || string(raw[name]) == "null" {
		return
	}
	var s string
	if json.Unmarshal(raw[name], &s) != nil {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(field, "'%s' must be an RFC 3339 timestamp.", field)
		return
	}
	if _, off := t.Zone(); off != 0 {
		v.Add(field, "'%s' must be in UTC (Z).", field)
	}
}

func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("expected %s, got %s", te.Type, te.Value)
	case errors.Is(err, io.EOF):
		return "empty body"
	}
	return "invalid value"
}

// field0 names a field in errors the way the request spelled the seed's name.
func field0(name string) string {
	for lower, canon := range canonicalNames {
		if strings.EqualFold(lower, name) {
			return canon
		}
	}
	return name
}
