package notification

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/portcommunity/cpu/shared/secretbox"
)

// sealedPinPrefix marks a pick-up PIN as stored: sealed, so that the table (and its backups and
// exports) never holds the PIN in the clear; the readers that hand the notification to its
// receiver (E7, the webhook deliverer) open it on the way out.
const sealedPinPrefix = "sealed:"

// SealedPin is the stored form of a sealed PIN in body.pickupPin.
func SealedPin(sealed []byte) string {
	return sealedPinPrefix + base64.StdEncoding.EncodeToString(sealed)
}

// PinUnreadable is told to the holder when its PIN cannot be opened (a key that changed): a new
// assignment issues a new PIN.
const PinUnreadable = "The pick-up PIN could not be read; assign the pick-up again for a new PIN."

// RevealPin opens the sealed PIN of a notification's message, if it holds one, for its receiver.
// It answers whether the PIN could not be opened; then the message goes out without the PIN and
// with PinUnreadable among its errors (a permanent failure must not hold the notification back).
func RevealPin(ctx context.Context, box secretbox.Box, n *Notification) (failed bool, err error) {
	if !strings.Contains(n.Message, `"pickupPin":"`+sealedPinPrefix) {
		return false, nil
	}
	var env Envelope
	if err := json.Unmarshal([]byte(n.Message), &env); err != nil {
		return false, err
	}
	sealed, derr := base64.StdEncoding.DecodeString(strings.TrimPrefix(env.Body.PickupPin, sealedPinPrefix))
	var pin []byte
	if derr == nil && box != nil {
		pin, derr = box.Open(ctx, sealed, n.PublicReferenceID)
	}
	if derr != nil || box == nil {
		env.Body.PickupPin, failed = "", true
		env.Errors = append(env.Errors, PinUnreadable)
	} else {
		env.Body.PickupPin = string(pin)
	}
	msg, err := json.Marshal(env)
	if err != nil {
		return failed, err
	}
	n.Message = string(msg)
	return failed, nil
}
