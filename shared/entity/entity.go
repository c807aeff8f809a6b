// Package entity holds the parties of the platform (contract §1): companies with their
// identifiers, addresses and roles, the rules a registration must keep, and the normalised forms
// that lookups and uniqueness use. It knows nothing of storage.
package entity

import (
	"regexp"
	"sort"
	"strings"

	"github.com/portcommunity/cpu/shared/problem"
)

// Role is a CPu role of an entity.
type Role string

const (
	ShippingAgent     Role = "ShippingAgent"
	TerminalOperator  Role = "TerminalOperator"
	ReleaseParty      Role = "ReleaseParty"
	TransportOperator Role = "TransportOperator"
	// Authority: customs and police integrations (contract §10): they set the customs and police
	// lights of the containers of every configured port, and hold no release rights.
	Authority Role = "Authority"
)

// Roles lists the known roles.
var Roles = []Role{ShippingAgent, TerminalOperator, ReleaseParty, TransportOperator, Authority}

// ParseRole reads a role case-insensitively.
func ParseRole(s string) (Role, bool) {
	for _, r := range Roles {
		if strings.EqualFold(string(r), strings.TrimSpace(s)) {
			return r, true
		}
	}
	return "", false
}

// Address of an entity: addressTypeCode "1" main, "2" billing.
type Address struct {
	AddressTypeCode string `json:"addressTypeCode"`
	Street          string `json:"street"`
	PostalCode      string `json:"postalCode"`
	City            string `json:"city"`
	Country         string `json:"country"`
	ContactName     string `json:"contactName"`
	ContactEmail    string `json:"contactEmail"`
}

// Entity is a registered company.
type Entity struct {
	NxtEntityID   string    `json:"nxtEntityId"`
	Name          string    `json:"name"`
	VAT           string    `json:"vat"`
	EORI          string    `json:"eori,omitempty"`
	DUNS          string    `json:"duns,omitempty"`
	SCAC          string    `json:"scac,omitempty"`
	APCSCode      string    `json:"apcsCode,omitempty"`
	ExternalID    string    `json:"externalId,omitempty"`
	Addresses     []Address `json:"addresses"`
	Roles         []Role    `json:"roles"`
	TerminalCodes []string  `json:"terminalCodes"`
}

// HasRole tells whether the entity holds the role.
func (e Entity) HasRole(r Role) bool {
	for _, x := range e.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// MaxNameLength bounds a company name. It keeps the name's search index (one item per trigram, see
// NameGrams) inside one DynamoDB transaction with the entity, so a registration is all or nothing.
const MaxNameLength = 70

var (
	nxtIDPattern  = regexp.MustCompile(`^NXT[0-9]{9,12}$`)
	eoriPattern   = regexp.MustCompile(`^[A-Z]{2}[A-Z0-9]{1,15}$`)
	vatPattern    = regexp.MustCompile(`^[A-Z]{2}[A-Z0-9]{2,13}$`)
	dunsPattern   = regexp.MustCompile(`^[0-9]{9}$`)
	scacPattern   = regexp.MustCompile(`^[A-Z]{2,4}$`)
	apcsPattern   = regexp.MustCompile(`^[A-Z0-9]{1,10}$`)
	termPattern   = regexp.MustCompile(`^[0-9A-Z]{1,10}$`)
	emailPattern  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	countryFormat = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Normalize trims and upper-cases the identifiers so that lookups and uniqueness compare like
// with like; the name keeps its case but loses surrounding and doubled spaces.
func (e *Entity) Normalize() {
	up := func(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
	e.NxtEntityID = up(e.NxtEntityID)
	e.Name = strings.Join(strings.Fields(e.Name), " ")
	e.VAT = up(e.VAT)
	e.EORI = up(e.EORI)
	e.DUNS = strings.TrimSpace(e.DUNS)
	e.SCAC = up(e.SCAC)
	e.APCSCode = up(e.APCSCode)
	e.ExternalID = strings.TrimSpace(e.ExternalID)
	for i := range e.TerminalCodes {
		e.TerminalCodes[i] = up(e.TerminalCodes[i])
	}
	for i := range e.Addresses {
		e.Addresses[i].Country = up(e.Addresses[i].Country)
	}
	sort.Slice(e.Roles, func(i, j int) bool { return e.Roles[i] < e.Roles[j] })
}

// Validate checks a registration (after Normalize) and names every broken field.
func (e Entity) Validate() error {
	var v problem.Validation
	if !nxtIDPattern.MatchString(e.NxtEntityID) {
		v.Add("nxtEntityId", "'nxtEntityId' must be NXT followed by 9 to 12 digits.")
	}
	switch {
	case e.Name == "":
		v.Add("name", "'name' must not be empty.")
	case len([]rune(e.Name)) > MaxNameLength:
		v.Add("name", "'name' must be at most %d characters.", MaxNameLength)
	}
	if !vatPattern.MatchString(e.VAT) {
		v.Add("vat", "'vat' must be a country code followed by 2 to 13 letters or digits.")
	} else if strings.HasPrefix(e.VAT, "BE") && !ValidBelgianVAT(e.VAT) {
		v.Add("vat", "'vat' is not a valid Belgian VAT number (check digits).")
	}
	if e.EORI != "" && !eoriPattern.MatchString(e.EORI) {
		v.Add("eori", "'eori' must be a country code followed by up to 15 letters or digits.")
	}
	if e.DUNS != "" && !dunsPattern.MatchString(e.DUNS) {
		v.Add("duns", "'duns' must be 9 digits.")
	}
	if e.SCAC != "" && !scacPattern.MatchString(e.SCAC) {
		v.Add("scac", "'scac' must be 2 to 4 letters.")
	}
	if e.APCSCode != "" && !apcsPattern.MatchString(e.APCSCode) {
		v.Add("apcsCode", "'apcsCode' must be 1 to 10 letters or digits.")
	}
	if len(e.ExternalID) > 64 {
		v.Add("externalId", "'externalId' must be at most 64 characters.")
	}
	if len(e.Roles) == 0 {
		v.Add("roles", "'roles' must name at least one of ShippingAgent, TerminalOperator, ReleaseParty, TransportOperator, Authority.")
	}
	seen := map[Role]bool{}
	for _, r := range e.Roles {
		if _, ok := ParseRole(string(r)); !ok || seen[r] {
			v.Add("roles", "'roles' holds an unknown or repeated role %q.", r)
		}
		seen[r] = true
	}
	if e.HasRole(TerminalOperator) && len(e.TerminalCodes) == 0 {
		v.Add("terminalCodes", "a TerminalOperator needs at least one terminal code.")
	}
	if !e.HasRole(TerminalOperator) && len(e.TerminalCodes) > 0 {
		v.Add("terminalCodes", "only a TerminalOperator has terminal codes.")
	}
	for _, t := range e.TerminalCodes {
		if !termPattern.MatchString(t) {
			v.Add("terminalCodes", "terminal code %q must be 1 to 10 letters or digits.", t)
		}
	}
	mains := 0
	for i, a := range e.Addresses {
		field := "addresses[" + itoa(i) + "]"
		switch a.AddressTypeCode {
		case "1":
			mains++
		case "2":
		default:
			v.Add(field+".addressTypeCode", "'addressTypeCode' must be 1 (main) or 2 (billing).")
		}
		if strings.TrimSpace(a.City) == "" {
			v.Add(field+".city", "'city' must not be empty.")
		}
		if !countryFormat.MatchString(a.Country) {
			v.Add(field+".country", "'country' must be an ISO 3166 alpha-2 code.")
		}
		if a.ContactEmail != "" && !emailPattern.MatchString(a.ContactEmail) {
			v.Add(field+".contactEmail", "'contactEmail' is not an e-mail address.")
		}
	}
	if mains != 1 {
		v.Add("addresses", "exactly one main address (addressTypeCode 1) is required.")
	}
	return v.Err()
}

// ValidBelgianVAT checks BE + 10 digits whose last two are 97 - (first eight mod 97).
func ValidBelgianVAT(vat string) bool {
	if len(vat) != 12 || !strings.HasPrefix(vat, "BE") {
		return false
	}
	n := 0
	for _, c := range vat[2:10] {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	check := 0
	for _, c := range vat[10:] {
		if c < '0' || c > '9' {
			return false
		}
		check = check*10 + int(c-'0')
	}
	return (vat[2] == '0' || vat[2] == '1') && 97-n%97 == check
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
