package notification

import (
	"encoding/json"
	"time"
)

// Query is one E7 read of a receiver's notifications, newest first. Its most selective filter
// chooses the access path (reference, release, container, event, or the receiver's own
// partition); every path is a key condition on the receiver and the time range, and the other
// filters are applied while reading through the range, never after a Limit.
type Query struct {
	Receiver  string
	From, To  time.Time // storedOn range [From, To)
	Event     string
	Equipment string
	PublicRef string
	ReleaseID string
	// Before continues a listing: only notifications stored before this position (the Cursor of
	// the previous page) are returned.
	Before string
	// Limit bounds the notifications of one page, MaxBytes the size they add to the answer
	// (AnswerBytes).
	Limit    int
	MaxBytes int
}

// Page is one answer of a Query.
type Page struct {
	Items []Notification
	// Next is the position to continue from (Query.Before) when more notifications match; empty
	// when this page holds the last of them.
	Next string
}

// Sent tells whether notifications under a reference (or of a release) inside a time range
// exist, for the caller and for anyone: E7 answers 403 only when they exist but none went to the
// caller.
type Sent struct {
	ToCaller bool
	ToAnyone bool
}

// Bounds of an E7 answer: a page holds at most MaxResults notifications and MaxPageBytes of them as
// the answer carries them (AnswerBytes), which keeps it inside Lambda's 6 MB response limit
// whatever the messages hold (an E2 answer of 100 rows is about 75 KB, and text full of quotes
// grows several times over when escaped twice).
const (
	MaxResults   = 1000
	MaxPageBytes = 5_000_000
)

// AnswerBytes is what a notification adds to an E7 answer as Lambda returns it: the notification
// as JSON (its message is a JSON string inside it), within the body, which the proxy response
// carries as a JSON string again. Each escaping can multiply a character: a quote is 1, 2, then 4
// bytes; "<" is 6 then 7 (Go escapes it for HTML).
func AnswerBytes(n Notification) int {
	inner, _ := json.Marshal(n)
	outer, _ := json.Marshal(string(inner))
	return len(outer) - 2 + 1 // without the quotes of the string, with the comma between items
}

// Events are the notificationEvent values of the seed, and ThrownException (a request that failed
// inside the platform).
var Events = []string{"NotValidated", "Transferred", "AcceptedByNextParty", "DeclinedByNextParty", "RevokedByPreviousParty", "ReleaseLightChanged", "Update", "GateOut", "ThrownException", "ChannelDisabled"}
