// Package notification turns outcomes into notifications (one per recipient, contract §7), and
// answers E7: a party's notifications of the last 168 hours.
package notification

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/portcommunity/cpu/shared/release"
)

// Retention is how long a notification stays readable (and when TTL removes it).
const Retention = 168 * time.Hour

// Notification is one stored notification, as E7 returns it.
type Notification struct {
	NxtEntityID         string    `json:"nxtEntityId"`
	EquipmentNumber     string    `json:"equipmentNumber"`
	PublicReferenceID   string    `json:"publicReferenceId"`
	ReleaseID           string    `json:"releaseId"`
	ExternalReferenceID *string   `json:"externalReferenceId"`
	StoredOn            time.Time `json:"storedOn"`
	Message             string    `json:"message"`
	Type                string    `json:"type"`
	Event               string    `json:"event"`
	// Seq orders the notifications of one outcome (item, notice); part of the stored key.
	Seq string `json:"-"`
}

// EnvelopeOf is the envelope of §7 with a body of type B: what a webhook receives and what
// Message holds as a JSON string.
type EnvelopeOf[B any] struct {
	PublicReferenceID   string   `json:"publicReferenceId"`
	ExternalReferenceID *string  `json:"externalReferenceId"`
	ReceiverID          string   `json:"receiverId"`
	SenderID            *string  `json:"senderId"`
	Timestamp           string   `json:"timestamp"`
	Type                string   `json:"type"`
	Event               string   `json:"event"`
	Errors              []string `json:"errors"`
	Warnings            []string `json:"warnings"`
	Body                B        `json:"body"`
}

// Envelope is the envelope of a release notification.
type Envelope = EnvelopeOf[Body]

// Body of a release notification.
type Body struct {
	ActionType            string     `json:"actionType,omitempty"`
	ReleaseID             string     `json:"releaseId,omitempty"`
	PortLoCode            string     `json:"portLoCode"`
	EquipmentNumber       string     `json:"equipmentNumber"`
	BillOfLadingNumbers   []string   `json:"billOfLadingNumbers"`
	ReleaseIdentification string     `json:"releaseIdentification,omitempty"`
	TerminalCode          string     `json:"terminalCode,omitempty"`
	GreenLightName        string     `json:"greenLightName,omitempty"`
	OriginalValue         string     `json:"originalValue,omitempty"`
	NewValue              string     `json:"newValue,omitempty"`
	ReleaseRight          *RightView `json:"releaseRight,omitempty"`
	// PickupReady and Lights come with the right (contract §10); PickupPin only in the holder's
	// Assign outcome.
	PickupReady *bool                        `json:"pickupReady,omitempty"`
	Lights      map[release.LightName]string `json:"lights,omitempty"`
	PickupPin   string                       `json:"pickupPin,omitempty"`
	Extra       json.RawMessage              `json:"result,omitempty"`
}

// RightView is the release right as the receiver sees it.
type RightView struct {
	CurrentHolder string `json:"currentHolder"`
	Status        int    `json:"status"`
	PendingTo     string `json:"pendingTo,omitempty"`
}

// Build makes the notifications of an outcome: one per notice and recipient, with deterministic
// keys and content, so that a retried stream record writes the same items again, never copies.
func Build(o release.Outcome) []Notification {
	var out []Notification
	var sender *string
	if o.Requester != "" {
		s := o.Requester
		sender = &s
	}
	for n, notice := range o.Notices {
		for _, rcpt := range notice.Recipients {
			body := Body{
				ActionType: notice.ActionType, ReleaseID: o.ReleaseID, PortLoCode: o.PortLoCode, EquipmentNumber: o.EquipmentNumber,
				BillOfLadingNumbers: o.BillOfLadingNumbers, ReleaseIdentification: o.ReleaseIdentification, TerminalCode: o.TerminalCode,
			}
			lightChange := notice.Type == release.TypeReleaseLight && notice.Event != release.EventNotValidated && notice.Event != release.EventThrownException
			switch {
			case lightChange && o.GreenLight != nil:
				body.GreenLightName, body.OriginalValue, body.NewValue = o.GreenLight.Name, o.GreenLight.From, o.GreenLight.To
			case lightChange:
				body.GreenLightName = "CommercialRelease"
				body.OriginalValue, body.NewValue = string(o.OriginalLight), string(o.Light)
				if o.Action == release.ActRelease {
					body.OriginalValue = "UNKNOWN"
				}
				if o.Action == release.ActDelete {
					body.NewValue = "UNKNOWN"
				}
			}
			if notice.ActionType == string(release.ActAssign) && rcpt == o.Holder && len(o.SealedPin) > 0 {
				body.PickupPin = SealedPin(o.SealedPin) // opened by E7 and the deliverer for the holder
			}
			body.Extra = o.Result
			if o.Holder != "" {
				right := release.Right{Holder: o.Holder, Status: o.RightStatus, PendingTo: o.PendingTo}
				body.ReleaseRight = &RightView{CurrentHolder: o.Holder, Status: right.ViewStatus(rcpt), PendingTo: o.PendingTo}
				body.PickupReady = o.PickupReady
				if o.Lights != nil {
					body.Lights = o.Lights.View(string(o.Light))
				}
			}
			env := Envelope{
				PublicReferenceID: o.PublicReferenceID, ExternalReferenceID: o.ExternalReferenceID, ReceiverID: rcpt,
				SenderID: sender, Timestamp: o.At.UTC().Format(time.RFC3339Nano), Type: notice.Type, Event: notice.Event,
				Errors: nonNil(o.Errors), Warnings: nonNil(slices.Concat(o.Warnings, notice.Warnings)), Body: body,
			}
			msg, _ := json.Marshal(env)
			out = append(out, Notification{
				NxtEntityID: rcpt, EquipmentNumber: o.EquipmentNumber, PublicReferenceID: o.PublicReferenceID,
				ReleaseID: o.ReleaseID, ExternalReferenceID: o.ExternalReferenceID, StoredOn: o.At.UTC(),
				Message: string(msg), Type: notice.Type, Event: notice.Event, Seq: fmt.Sprintf("%03d#%02d", o.Item, n),
			})
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
