package release

import (
	"strings"
	"testing"

	"github.com/portcommunity/cpu/shared/problem"
)

func TestRouteBodyMismatchUsesTheSeedsText(t *testing.T) {
	// The seed's example: equipmentNumber and portLoCode omitted from the body.
	_, _, err := DecodeTransfer([]byte(`{"actionType":"Transfer"}`), "BEANR", "CSQU3054383", ports)
	pe := problem.As(err)
	want := "Route parameter 'PortLoCode' does not match with PortLoCode from body;Route parameter 'EquipmentNumber' does not match with EquipmentNumber from body"
	if pe.Status() != 400 || pe.Detail != want || len(pe.Fields["PortLoCode"]) != 1 || len(pe.Fields["EquipmentNumber"]) != 1 {
		t.Fatalf("%d %q %v", pe.Status(), pe.Detail, pe.Fields)
	}
	_, _, err = DecodeBulk([]byte(`{"portLoCode":"NLRTM","actionType":"Accept","releaseRights":[]}`), "BEANR", ports)
	if problem.As(err).Detail != "Route parameter 'PortLoCode' does not match with PortLoCode from body" {
		t.Fatalf("bulk: %v", err)
	}
}

func TestDecodeRights(t *testing.T) {
	item := `{"releaseIdentification":"R1","equipmentNumber":"csqu3054383","billOfLadingNumbers":["BL1"],"terminalCode":"01700",
	"releaseFrom":{"identificationType":"nxtentityid","identificationCode":"nxt200000001"},"releaseTo":{"identificationType":"Vat","identificationCode":"BE0403170701"}}`
	act, b, err := DecodeBulk([]byte(`{"portLoCode":"beanr","actionType":"decline","releaseRights":[`+item+`]}`), "BEANR", ports)
	if err != nil || act != ActDecline || b.ReleaseRights[0].EquipmentNumber != "CSQU3054383" || b.ReleaseRights[0].ReleaseTo.IdentificationType != "Tin" {
		t.Fatalf("%v %+v %v", act, b, err)
	}
	cmd := b.ReleaseRights[0].Command(act, "ref", nil, "NXT200000005", 3)
	if cmd.Item != 3 || cmd.Right.From.IdentificationCode != "NXT200000001" || cmd.GroupID() != "BEANR#CSQU3054383" {
		t.Fatalf("%+v", cmd)
	}
	for name, body := range map[string]string{
		"item with its own action": `{"portLoCode":"BEANR","actionType":"Accept","releaseRights":[` + strings.Replace(item, `"terminalCode"`, `"actionType":"Accept","terminalCode"`, 1) + `]}`,
		"unknown field":            `{"portLoCode":"BEANR","actionType":"Accept","releaseRights":[` + item + `],"colour":1}`,
		"missing releaseTo":        `{"portLoCode":"BEANR","actionType":"Accept","releaseRights":[` + strings.Replace(item, `"releaseTo"`, `"x_releaseTo"`, 1) + `]}`,
	} {
		if _, _, err := DecodeBulk([]byte(body), "BEANR", ports); problem.As(err).Status() != 400 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestRightItemLimits: the limits name the item and the field, and count characters.
func TestRightItemLimits(t *testing.T) {
	item := `{"releaseIdentification":"R1","equipmentNumber":"csqu3054383","billOfLadingNumbers":["BL1"],"terminalCode":"01700",
	"releaseFrom":{"identificationType":"nxtentityid","identificationCode":"nxt200000001"},"releaseTo":{"identificationType":"Vat","identificationCode":"BE0403170701"}}`
	bulk := func(it string) []byte {
		return []byte(`{"portLoCode":"BEANR","actionType":"Accept","releaseRights":[` + it + `]}`)
	}
	withReason := func(r string) string {
		return strings.Replace(item, `"terminalCode"`, `"reasonForAction":"`+r+`","terminalCode"`, 1)
	}
	for field, body := range map[string][]byte{
		"releaseRights[0].billOfLadingNumbers": bulk(strings.Replace(item, `["BL1"]`, manyBLs(MaxBillsOfLading+1), 1)),
		"releaseRights[0].reasonForAction":     bulk(withReason(strings.Repeat("ß", MaxReasonChars+1))),
	} {
		_, _, err := DecodeBulk(body, "BEANR", ports)
		if pe := problem.As(err); pe.Status() != 400 || len(pe.Fields[field]) == 0 {
			t.Errorf("%s: %v %v", field, err, pe.Fields)
		}
	}
	if _, _, err := DecodeBulk(bulk(withReason(strings.Repeat("ß", MaxReasonChars))), "BEANR", ports); err != nil {
		t.Errorf("a reason of %d characters: %v", MaxReasonChars, err)
	}
}
