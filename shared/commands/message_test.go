package commands

import (
	"encoding/json"
	"testing"

	"github.com/portcommunity/cpu/shared/release"
)

// TestMessageBodyIsASCIIAndRoundTrips: any text JSON allows travels through the queue unchanged.
func TestMessageBodyIsASCIIAndRoundTrips(t *testing.T) {
	for _, text := range []string{"MSC ANTWERP", "Zeebrügge", "🚢 vessel 😀", "中文", "\u2028\u2029", "tab\there"} {
		cmd := release.Command{PublicReferenceID: "ref", Request: release.Request{PortLoCode: "BEANR", EquipmentNumber: "CSQU3054383", VesselName: text}}
		m, err := MessageOf(cmd)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range m.Body {
			if b >= 0x80 {
				t.Fatalf("%q: body is not ASCII: %s", text, m.Body)
			}
		}
		var back release.Command
		if err := json.Unmarshal(m.Body, &back); err != nil || back.Request.VesselName != text {
			t.Fatalf("%q came back as %q (%v)", text, back.Request.VesselName, err)
		}
		if m.Group != "BEANR#CSQU3054383" || m.Dedup != "ref-0" {
			t.Fatalf("group %q dedup %q", m.Group, m.Dedup)
		}
	}
}
