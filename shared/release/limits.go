package release

import (
	"unicode"
	"unicode/utf8"

	"github.com/portcommunity/cpu/shared/problem"
)

// Limits of a request, checked when it is decoded (400 naming the field). They keep every item
// the request makes (the release, its outcome, its notifications, a bulk call's accepted request)
// far below DynamoDB's 400 KB, and every queued command far below SQS's 256 KiB. Lengths count
// characters, not bytes: "Zeebrügge" is nine.
const (
	// MaxIdentifierChars bounds releaseIdentification, each B/L number and identificationCode.
	MaxIdentifierChars = 35
	// MaxFreeTextChars bounds the E1 free-text fields (vessel name, references, …).
	MaxFreeTextChars = 70
	// MaxBillsOfLading bounds the B/L numbers of one release or release right. A container is on a
	// handful of B/Ls; fifty leaves room for consolidations and keeps a bulk call of 100 rights
	// under 200 KB stored.
	MaxBillsOfLading = 50
	// MaxReasonChars bounds reasonForAction.
	MaxReasonChars = 256
)

// chars counts characters (runes), as the limits do.
func chars(s string) int { return utf8.RuneCountInString(s) }

// checkText refuses text with control characters (JSON allows them, but no field of a release is
// meant to hold a line break, a tab or a NUL, and they break the systems integrators feed) and text
// over max characters.
func checkText(v *problem.Validation, field, s string, max int) {
	if n := chars(s); n > max {
		v.Add(field, "'%s' must be at most %d characters; it has %d.", field, max, n)
	}
	if !Plain(s) {
		v.Add(field, "'%s' must not contain control characters.", field)
	}
}

// Plain tells whether s holds no control characters.
func Plain(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// ValidateLookup checks the B/L numbers and releaseIdentification that name a release in a read
// (E5's query parameters) against the same limits as a request's.
func ValidateLookup(bls []string, releaseIdentification string) error {
	var v problem.Validation
	if len(bls) > MaxBillsOfLading {
		v.Add("billOfLadingNumbers", "'billOfLadingNumbers' must hold at most %d numbers; it holds %d.", MaxBillsOfLading, len(bls))
	}
	for _, bl := range bls {
		if chars(bl) > MaxIdentifierChars || !Plain(bl) {
			v.Add("billOfLadingNumbers", "'billOfLadingNumbers' holds a number longer than %d characters or with control characters.", MaxIdentifierChars)
			break
		}
	}
	checkText(&v, "releaseIdentification", releaseIdentification, MaxIdentifierChars)
	return v.Err()
}
