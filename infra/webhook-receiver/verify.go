package main

// This file is meant to be copied into an integrator's own receiver: it uses the standard library
// only and has no other dependency on this program.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far webhook-timestamp may lie from the receiver's clock, in either direction.
// It bounds how long a captured delivery can be replayed, while allowing for clock skew; it is
// the value of the Standard Webhooks libraries. The platform stamps every attempt (retries too).
const Tolerance = 5 * time.Minute

// The errors Verify returns (wrapped with detail; test them with errors.Is).
var (
	ErrMissingHeaders = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrInvalidID      = errors.New("webhook-id contains '.'")
	ErrTimestamp      = errors.New("webhook-timestamp is not an integer within the tolerance")
	ErrSignature      = errors.New("no v1 signature matches")
	ErrSecret         = errors.New("invalid signing secret (want whsec_ followed by base64)")
)

// Verify checks a Standard Webhooks (v1, HMAC-SHA256) signed delivery. secrets are the channel's
// signing secrets ("whsec_" + base64 of the key): the current one and, during a rotation, the
// previous one; a delivery signed with any of them is accepted. body must be the raw request body,
// byte for byte, as received: parsing and re-encoding JSON changes the bytes and breaks the
// signature. It returns nil for an authentic delivery; deduplicate on webhook-id afterwards.
func Verify(secrets []string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	// The signed content is "id.timestamp.body": a '.' in the id would make it ambiguous.
	if strings.Contains(id, ".") {
		return ErrInvalidID
	}
	// Refusing old (and future) timestamps stops a captured delivery from being replayed later.
	// It must be the plain decimal that was signed ("+17…" or "017…" would parse to the same time).
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || strconv.FormatInt(sec, 10) != ts {
		return fmt.Errorf("%w: %q", ErrTimestamp, ts)
	}
	if sent := time.Unix(sec, 0); now.Sub(sent) > Tolerance || sent.Sub(now) > Tolerance {
		return fmt.Errorf("%w: %s is %v from now", ErrTimestamp, ts, sent.Sub(now).Round(time.Second))
	}
	var expected [][]byte // base64 of HMAC-SHA256(key, "id.timestamp.body"), one per secret
	for _, s := range secrets {
		key, err := decodeSecret(s)
		if err != nil {
			return err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		expected = append(expected, []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))))
	}
	if len(expected) == 0 {
		return fmt.Errorf("%w: none configured", ErrSecret)
	}
	// The header holds space-separated "version,base64" entries (two during a rotation). Only v1
	// is HMAC-SHA256; other versions (v1a is ed25519) are skipped, not errors.
	for _, entry := range strings.Split(sigs, " ") {
		version, got, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		for _, want := range expected {
			if hmac.Equal([]byte(got), want) { // constant time: no timing oracle on the signature
				return nil
			}
		}
	}
	return ErrSignature
}

// decodeSecret returns the HMAC key of a "whsec_…" secret: the base64-decoded part.
func decodeSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, "whsec_")
	key, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || len(key) == 0 {
		return nil, ErrSecret
	}
	return key, nil
}
