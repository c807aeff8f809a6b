package release

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portcommunity/cpu/shared/problem"
)

var ports = ParsePorts("BEANR")

const validRelease = `{
  "releaseIdentification": "REL-0001", "equipmentNumber": "csqu 305438 3", "equipmentType": "22G1",
  "billOfLadingNumbers": ["BL1", "BL2"], "terminalCode": "01700", "actionType": "release",
  "carrier": {"identificationType": "nxtentityid", "identificationCode": "nxt200000001"},
  "releaseTo": {"identificationType": "VAT", "identificationCode": "BE0403170701"},
  "isCarrierHaulage": false, "releaseDateTimeUtc": "2026-11-21T08:00:00Z", "portLoCode": "BEANR",
  "equipmentStatus": "import", "fullEmptyIndicator": "FULL"
}`

func TestContainerCheckDigit(t *testing.T) {
	for s, want := range map[string]bool{
		"CSQU3054383": true, "CAIU7654324": true, "CAIU1234561": true,
		"CAIU7654321": false, "CAIU1234567": false, "CSQ3054383": false, "CSQX3054383": false,
	} {
		if got := ValidContainerNumber(s); got != want {
			t.Errorf("%s: %v", s, got)
		}
	}
}

func TestDecodeRelease(t *testing.T) {
	r, err := Decode([]byte(validRelease), ports)
	if err != nil {
		t.Fatal(err)
	}
	if r.ActionType != ActRelease || r.EquipmentNumber != "CSQU3054383" || r.Carrier.IdentificationType != "NxtEntityId" ||
		r.Carrier.IdentificationCode != "NXT200000001" || r.ReleaseTo.IdentificationType != "Tin" || r.EquipmentStatus != "Import" || r.FullEmptyIndicator != "Full" {
		t.Fatalf("%+v", r)
	}
	if got := r.ExpirationDateTimeUtc.Sub(*r.ReleaseDateTimeUtc); got != DefaultValidity {
		t.Fatalf("default expiry %v", got)
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	with := func(old, new string) string { return strings.Replace(validRelease, old, new, 1) }
	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"not json", `{"a":`, 400, ""},
		{"two values", `{} {}`, 400, ""},
		{"unknown field", with(`"portLoCode"`, `"colour": "red", "portLoCode"`), 400, "colour"},
		{"wrong type", with(`"isCarrierHaulage": false`, `"isCarrierHaulage": "no"`), 400, "isCarrierHaulage"},
		{"bad check digit", with(`csqu 305438 3`, `CAIU7654321`), 400, "equipmentNumber"},
		{"bad port", with(`"BEANR"`, `"BE1NR"`), 400, "portLoCode"},
		{"port not served", with(`"BEANR"`, `"NLRTM"`), 400, "portLoCode"},
		{"no B/L", with(`["BL1", "BL2"]`, `[]`), 400, "billOfLadingNumbers"},
		{"duplicate B/L", with(`["BL1", "BL2"]`, `["BL1", "bl1"]`), 400, "billOfLadingNumbers"},
		{"long B/L", with(`"BL2"`, `"`+strings.Repeat("B", 36)+`"`), 400, "billOfLadingNumbers"},
		{"long release id", with(`"REL-0001"`, `"`+strings.Repeat("R", 36)+`"`), 400, "releaseIdentification"},
		{"no carrier", with(`"carrier": {"identificationType": "nxtentityid", "identificationCode": "nxt200000001"},`, ``), 400, "carrier"},
		{"bad party type", with(`"VAT"`, `"Passport"`), 400, "releaseTo.identificationType"},
		{"not UTC", with(`08:00:00Z`, `08:00:00+02:00`), 400, "releaseDateTimeUtc"},
		{"expiry before release", with(`"portLoCode"`, `"expirationDateTimeUtc": "2026-11-20T08:00:00Z", "portLoCode"`), 400, "expirationDateTimeUtc"},
		{"bad enum", with(`"import"`, `"sideways"`), 400, "equipmentStatus"},
		{"unknown action", with(`"release"`, `"Explode"`), 400, "actionType"},
		{"no haulage flag", with(`"isCarrierHaulage": false,`, ``), 400, "isCarrierHaulage"},
		{"extra field on Unblock", `{"actionType":"Unblock","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["BL1"],"portLoCode":"BEANR","vesselName":"X"}`, 405, ""},
		{"extra field on Delete", `{"actionType":"delete","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["BL1"],"portLoCode":"BEANR","carrier":null}`, 405, ""},
		{"extra field on Block", `{"actionType":"Block","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["BL1"],"portLoCode":"BEANR","vesselName":"X"}`, 400, "vesselName"},
		{"too many B/Ls", with(`["BL1", "BL2"]`, manyBLs(MaxBillsOfLading+1)), 400, "billOfLadingNumbers"},
		{"36 characters with accents", with(`"REL-0001"`, `"`+strings.Repeat("é", 36)+`"`), 400, "releaseIdentification"},
		{"control character", with(`"portLoCode"`, `"vesselName": "MSC\nANTWERP", "portLoCode"`), 400, "vesselName"},
		{"control character in a B/L", with(`"BL2"`, `"BL\u00002"`), 400, "billOfLadingNumbers"},
		{"71 characters", with(`"portLoCode"`, `"vesselName": "`+strings.Repeat("ü", 71)+`", "portLoCode"`), 400, "vesselName"},
	}
	for _, c := range cases {
		_, err := Decode([]byte(c.body), ports)
		pe := problem.As(err)
		if err == nil || pe.Status() != c.status || (c.field != "" && len(pe.Fields[c.field]) == 0) {
			t.Errorf("%s: got %v (%d, fields %v)", c.name, err, pe.Status(), pe.Fields)
		}
	}
	// Key fields alone are fine on Unblock and Delete.
	for _, a := range []string{"Unblock", "Delete", "Block", "Revoke"} {
		body := `{"actionType":"` + a + `","releaseIdentification":"R1","equipmentNumber":"CSQU3054383","equipmentType":"22G1","billOfLadingNumbers":["BL1"],"portLoCode":"BEANR","terminalCode":"01700"}`
		if _, err := Decode([]byte(body), ports); err != nil {
			t.Errorf("%s with key fields: %v", a, err)
		}
	}
}

func manyBLs(n int) string {
	var bls []string
	for i := 0; i < n; i++ {
		bls = append(bls, fmt.Sprintf(`"BL%04d"`, i))
	}
	return "[" + strings.Join(bls, ",") + "]"
}

// TestLimitsCountCharacters: the limits count characters, so text in any script or with emoji is
// accepted up to the limit and kept as sent.
func TestLimitsCountCharacters(t *testing.T) {
	with := func(old, new string) string { return strings.Replace(validRelease, old, new, 1) }
	body := with(`"REL-0001"`, `"`+strings.Repeat("é", MaxIdentifierChars)+`"`)
	body = strings.Replace(body, `"portLoCode"`, `"vesselName": "🚢 `+strings.Repeat("ü", MaxFreeTextChars-2)+`", "portLoCode"`, 1)
	body = strings.Replace(body, `["BL1", "BL2"]`, manyBLs(MaxBillsOfLading), 1)
	r, err := Decode([]byte(body), ports)
	if err != nil {
		t.Fatal(err)
	}
	if chars(r.VesselName) != MaxFreeTextChars || !strings.HasPrefix(r.VesselName, "🚢") || len(r.BillOfLadingNumbers) != MaxBillsOfLading {
		t.Fatalf("%q %d", r.VesselName, len(r.BillOfLadingNumbers))
	}
}
