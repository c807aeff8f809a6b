package release

import (
	"testing"

	"github.com/portcommunity/cpu/shared/problem"
)

// FuzzDecode: whatever the body, E1's decoding never panics and never fails with anything but a
// 400 or a 405; what it accepts keeps the rules (seed corpus: testdata/fuzz/FuzzDecode).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(validRelease))
	f.Add([]byte(`{"actionType":"Unblock","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["BL1"],"portLoCode":"BEANR"}`))
	f.Add([]byte(`{"actionType":"Delete","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["BL1"],"portLoCode":"BEANR","x":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"billOfLadingNumbers":[null,1,{}],"carrier":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := Decode(body, ports)
		if err != nil {
			if s := problem.As(err).Status(); s != 400 && s != 405 {
				t.Fatalf("status %d for %q: %v", s, body, err)
			}
			return
		}
		if !ValidContainerNumber(r.EquipmentNumber) || !ports[r.PortLoCode] || len(r.BillOfLadingNumbers) == 0 {
			t.Fatalf("accepted an invalid request %q: %+v", body, r)
		}
		if (r.ActionType == ActRelease || r.ActionType == ActUpdate) && (r.Carrier == nil || r.ReleaseDateTimeUtc == nil || r.ExpirationDateTimeUtc == nil || r.IsCarrierHaulage == nil) {
			t.Fatalf("accepted an incomplete %s: %q", r.ActionType, body)
		}
	})
}
