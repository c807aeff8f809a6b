package webhook

import (
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/notification"
)

// ChannelBody is the body of the channel's own envelopes (type Channel): Ping and ChannelDisabled.
type ChannelBody struct {
	ChannelID     string `json:"channelId"`
	Name          string `json:"name"`
	Reason        string `json:"reason,omitempty"`
	DisabledSince string `json:"disabledSince,omitempty"`
}

// channelEnvelope is the §7 envelope with a channel body.
type channelEnvelope = notification.EnvelopeOf[ChannelBody]

// Ping is the envelope POST …/test delivers: type Channel, event Ping, a fresh reference.
func Ping(ch Channel, at time.Time) (ref string, body []byte) {
	ref = uuid.NewString()
	body, _ = json.Marshal(channelEnvelope{
		PublicReferenceID: ref, ReceiverID: ch.EntityID, Timestamp: at.UTC().Format(time.RFC3339Nano),
		Type: TypeChannel, Event: EventPing, Errors: []string{}, Warnings: []string{},
		Body: ChannelBody{ChannelID: ch.ID, Name: ch.Name},
	})
	return ref, body
}

// DisabledNotice is the ChannelDisabled notification the entity gets when the platform disables a
// channel (readable through E7 and delivered to its other channels). Its reference is derived from
// the channel and the time, so writing it again writes the same item.
func DisabledNotice(ch Channel, reason string, at time.Time) notification.Notification {
	sum := sha256.Sum256([]byte(ch.ID + "\x00" + at.UTC().Format(time.RFC3339Nano)))
	sum[6], sum[8] = sum[6]&0x0f|0x40, sum[8]&0x3f|0x80 // the form of a version-4 GUID, as every reference
	ref := uuid.Must(uuid.FromBytes(sum[:16])).String()
	env, _ := json.Marshal(channelEnvelope{
		PublicReferenceID: ref, ReceiverID: ch.EntityID, Timestamp: at.UTC().Format(time.RFC3339Nano),
		Type: TypeChannel, Event: EventChannelDisabled, Errors: []string{reason}, Warnings: []string{},
		Body: ChannelBody{ChannelID: ch.ID, Name: ch.Name, Reason: reason, DisabledSince: at.UTC().Format(time.RFC3339)},
	})
	return notification.Notification{
		NxtEntityID: ch.EntityID, PublicReferenceID: ref, StoredOn: at.UTC(), Message: string(env),
		Type: TypeChannel, Event: EventChannelDisabled, Seq: "000#00",
	}
}
