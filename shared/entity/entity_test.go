package entity

import (
	"strings"
	"testing"

	"github.com/portcommunity/cpu/shared/problem"
)

func valid() Entity {
	e := Entity{
		NxtEntityID: "nxt200000001", Name: "  Scheldt   Shipping Agency ", VAT: "be0403170008", EORI: "BE0403170008",
		DUNS: "123456789", SCAC: "scsa", APCSCode: "sa0001", Roles: []Role{ShippingAgent},
		Addresses: []Address{{AddressTypeCode: "1", City: "Antwerpen", Country: "be", ContactEmail: "a@b.be"}},
	}
	e.Normalize()
	return e
}

func TestNormalizeAndValidate(t *testing.T) {
	e := valid()
	if e.NxtEntityID != "NXT200000001" || e.Name != "Scheldt Shipping Agency" || e.VAT != "BE0403170008" || e.SCAC != "SCSA" {
		t.Fatalf("normalize: %+v", e)
	}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesEveryBrokenField(t *testing.T) {
	cases := map[string]func(*Entity){
		"nxtEntityId":                  func(e *Entity) { e.NxtEntityID = "NXT12" },
		"name":                         func(e *Entity) { e.Name = strings.Repeat("x", MaxNameLength+1) },
		"vat":                          func(e *Entity) { e.VAT = "BE0403170009" }, // bad check digits
		"eori":                         func(e *Entity) { e.EORI = "123" },
		"duns":                         func(e *Entity) { e.DUNS = "12" },
		"scac":                         func(e *Entity) { e.SCAC = "S1" },
		"roles":                        func(e *Entity) { e.Roles = nil },
		"terminalCodes":                func(e *Entity) { e.Roles = []Role{TerminalOperator} },
		"addresses":                    func(e *Entity) { e.Addresses[0].AddressTypeCode = "2" },
		"addresses[0].country":         func(e *Entity) { e.Addresses[0].Country = "BEL" },
		"addresses[0].contactEmail":    func(e *Entity) { e.Addresses[0].ContactEmail = "nope" },
		"addresses[0].addressTypeCode": func(e *Entity) { e.Addresses[0].AddressTypeCode = "9" },
	}
	for field, breakIt := range cases {
		e := valid()
		breakIt(&e)
		err := e.Validate()
		if err == nil || len(problem.As(err).Fields[field]) == 0 {
			t.Errorf("%s: got %v", field, err)
		}
	}
}

func TestBelgianVAT(t *testing.T) {
	for vat, want := range map[string]bool{
		"BE0403170008": true, "BE0403170701": true, "BE1234567898": false, "BE0403170": false, "NL0403170008": false,
	} {
		if got := ValidBelgianVAT(vat); got != want {
			t.Errorf("%s: got %v", vat, got)
		}
	}
}

func TestNameGramsMakeEverySubstringFindable(t *testing.T) {
	name := "Scheldt Shipping Agency"
	grams := map[string]bool{}
	for _, g := range NameGrams(name) {
		grams[g] = true
	}
	folded := FoldName(name)
	r := []rune(folded)
	// Every substring's search gram must be the prefix of some trigram of the name.
	for i := range r {
		for j := i + 1; j <= len(r); j++ {
			term := string(r[i:j])
			if strings.TrimSpace(term) != term {
				continue // FoldName trims terms
			}
			sg := SearchGram(term)
			found := false
			for g := range grams {
				if strings.HasPrefix(g, sg) {
					found = true
					break
				}
			}
			if !found || !MatchesName(folded, strings.ToUpper(term)) {
				t.Fatalf("substring %q (gram %q) not findable", term, sg)
			}
		}
	}
	if len(NameGrams(strings.Repeat("ab", MaxNameLength/2))) > MaxNameLength+2 {
		t.Fatal("too many grams")
	}
}
