package notification

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/portcommunity/cpu/shared/secretbox"
)

// TestRevealPin: the stored message holds the PIN sealed; the reader opens it for the receiver; a
// PIN that does not open goes out as an error, not as a stuck notification.
func TestRevealPin(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, secretbox.KeySize)
	box, _ := secretbox.NewLocal(key)
	sealed, err := box.Seal(ctx, []byte("004711"), "ref-1")
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := json.Marshal(Envelope{PublicReferenceID: "ref-1", Errors: []string{}, Body: Body{ActionType: "Assign", PickupPin: SealedPin(sealed)}})
	if strings.Contains(string(msg), "004711") {
		t.Fatal("the stored message shows the PIN")
	}
	n := Notification{PublicReferenceID: "ref-1", Message: string(msg)}
	if failed, err := RevealPin(ctx, box, &n); failed || err != nil || !strings.Contains(n.Message, `"pickupPin":"004711"`) {
		t.Fatalf("reveal: %v %v %s", failed, err, n.Message)
	}
	// Bound to its reference: copied under another, it does not open.
	other := Notification{PublicReferenceID: "ref-2", Message: string(msg)}
	if failed, err := RevealPin(ctx, box, &other); !failed || err != nil || strings.Contains(other.Message, "sealed:") || !strings.Contains(other.Message, PinUnreadable) {
		t.Fatalf("another reference: %v %v %s", failed, err, other.Message)
	}
	plain := Notification{Message: `{"body":{"actionType":"Update"}}`}
	if failed, err := RevealPin(ctx, box, &plain); failed || err != nil || plain.Message != `{"body":{"actionType":"Update"}}` {
		t.Fatal("a message without a PIN changed")
	}
}
