package identity

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestTokenRoundTrip(t *testing.T) {
	s, err := GenerateLocalSigner()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caller := Caller{ClientID: "c1", EntityID: "NXT200000001", Roles: []string{"ShippingAgent"}}
	tok, err := IssueToken(context.Background(), s, "staging", caller, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewVerifier(s.Public(), "staging").Verify(tok)
	if err != nil || got.EntityID != caller.EntityID || got.ClientID != "c1" || got.Roles[0] != "ShippingAgent" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	// Another stage, another key, an expired token and a tampered one are all refused.
	if _, err := NewVerifier(s.Public(), "production").Verify(tok); err == nil {
		t.Error("token of staging accepted by production")
	}
	other, _ := GenerateLocalSigner()
	if _, err := NewVerifier(other.Public(), "staging").Verify(tok); err == nil {
		t.Error("token accepted with another key")
	}
	old, _ := IssueToken(context.Background(), s, "staging", caller, now.Add(-2*time.Hour), time.Hour)
	if _, err := NewVerifier(s.Public(), "staging").Verify(old); err == nil {
		t.Error("expired token accepted")
	}
	parts := strings.Split(tok, ".")
	if _, err := NewVerifier(s.Public(), "staging").Verify(parts[0] + "." + parts[1] + "x." + parts[2]); err == nil {
		t.Error("tampered token accepted")
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	s, _ := GenerateLocalSigner()
	kind, value, err := SplitKeySetting(s.EnvSigner())
	if err != nil || kind != "pem" {
		t.Fatal(kind, err)
	}
	back, err := LocalSignerFromSetting(value)
	if err != nil || back.KeyID() != s.KeyID() {
		t.Fatal(err)
	}
	_, value, _ = SplitKeySetting(s.EnvVerifier())
	pub, err := PublicKeyFromSetting(value)
	if err != nil || !pub.Equal(s.Public()) {
		t.Fatal(err)
	}
	if _, _, err := SplitKeySetting("plain-secret"); err == nil {
		t.Fatal("setting without kind accepted")
	}
}

func TestDerToRawIsFixedWidth(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for i := 0; i < 50; i++ {
		digest := make([]byte, 32)
		_, _ = rand.Read(digest)
		der, _ := ecdsa.SignASN1(rand.Reader, k, digest)
		raw, err := derToRaw(der)
		if err != nil || len(raw) != 64 {
			t.Fatal(len(raw), err)
		}
	}
	if _, err := derToRaw([]byte{1, 2, 3}); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestCredentials(t *testing.T) {
	now := time.Now()
	h, err := GenerateSecretHasher()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := NewClient(h, "NXT1", "id", "short", now); err == nil {
		t.Fatal("short secret accepted")
	}
	if _, _, err := NewClient(h, "NXT1", "id", strings.Repeat("x", 73), now); err == nil {
		t.Fatal("73-character secret accepted")
	}
	k, raw, err := NewSubscriptionKey("NXT1", "cpu", "staging", "", now)
	if err != nil || len(raw) < 20 || k.Hash != HashKey(raw) || k.Hash == raw || !strings.HasPrefix(raw, k.Prefix) {
		t.Fatal("key handling", err)
	}
	if _, err := NewIngestionID("NXT1", "staging", "not-a-guid", now); err == nil {
		t.Fatal("bad ingestion id accepted")
	}
	if tok, ok := BearerToken("bearer  abc "); !ok || tok != "abc" {
		t.Fatal("bearer parse")
	}
	if _, ok := BearerToken("Basic abc"); ok {
		t.Fatal("basic taken as bearer")
	}
}

// TestClientSecretHash: generated secrets are 32 random bytes; the stored form is the keyed hash in
// its documented format; the right secret passes, and a wrong secret, an unknown client, another
// key and a hash of another format fail.
func TestClientSecretHash(t *testing.T) {
	now := time.Now()
	key := bytes.Repeat([]byte{7}, SecretKeySize)
	h, err := NewSecretHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	c, secret, err := NewClient(h, "NXT1", "", "", now)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 32 || len(secret) != 43 {
		t.Fatalf("generated secret %q: %d bytes, %v", secret, len(raw), err)
	}
	// The format, recomputed independently: "hmac-sha256:v1:" + base64(HMAC-SHA256(key, secret)).
	m := hmac.New(sha256.New, key)
	m.Write([]byte(secret))
	if want := "hmac-sha256:v1:" + base64.StdEncoding.EncodeToString(m.Sum(nil)); c.SecretHash != want {
		t.Fatalf("stored hash %q, want %q", c.SecretHash, want)
	}
	if !h.Check(&c, secret) {
		t.Fatal("the right secret failed")
	}
	other, _ := GenerateSecretHasher()
	for name, ok := range map[string]bool{
		"wrong secret":         h.Check(&c, secret+"x"),
		"empty secret":         h.Check(&c, ""),
		"unknown client":       h.Check(nil, secret),
		"another key":          other.Check(&c, secret),
		"hash of other format": h.Check(&Client{SecretHash: "$2a$12$abcdefghijklmnopqrstuv"}, secret),
		"truncated hash":       h.Check(&Client{SecretHash: c.SecretHash[:30]}, secret),
		"hash without prefix":  h.Check(&Client{SecretHash: strings.TrimPrefix(c.SecretHash, "hmac-sha256:v1:")}, secret),
	} {
		if ok {
			t.Errorf("%s passed", name)
		}
	}
	// Given secrets (the local seed) follow the same format.
	seeded, _, err := NewClient(h, "NXT1", "local-client-1", "local-demo-secret-1-do-not-use", now)
	if err != nil || !h.Check(&seeded, "local-demo-secret-1-do-not-use") || !strings.HasPrefix(seeded.SecretHash, "hmac-sha256:v1:") {
		t.Fatalf("given secret: %+v %v", seeded, err)
	}
	if _, err := NewSecretHasher(key[:16]); err == nil {
		t.Fatal("16-byte key accepted")
	}
}

func TestSecretKeySetting(t *testing.T) {
	h, _ := GenerateSecretHasher()
	kind, value, err := SplitSecretKeySetting(h.LocalSetting())
	if err != nil || kind != "local" {
		t.Fatal(kind, err)
	}
	back, err := SecretHasherFromLocal(value)
	if err != nil {
		t.Fatal(err)
	}
	c, secret, _ := NewClient(h, "NXT1", "", "", time.Now())
	if !back.Check(&c, secret) {
		t.Fatal("the setting does not carry the key")
	}
	if kind, value, err := SplitSecretKeySetting("kms:arn:aws:kms:eu-west-1:1:key/x"); err != nil || kind != "kms" || value != "arn:aws:kms:eu-west-1:1:key/x" {
		t.Fatal(kind, value, err)
	}
	for _, bad := range []string{"", "pem:abc", "local:", "plain"} {
		if _, _, err := SplitSecretKeySetting(bad); err == nil {
			t.Errorf("setting %q accepted", bad)
		}
	}
	if _, err := SecretHasherFromLocal(base64.StdEncoding.EncodeToString([]byte("too short"))); err == nil {
		t.Fatal("short local key accepted")
	}
}

// TestUsageIdentifier: API Gateway gets a derived value, never the key, and not its lookup hash.
func TestUsageIdentifier(t *testing.T) {
	raw := "local-demo-subscription-key-0001"
	id := UsageIdentifier(raw)
	sum := sha256.Sum256([]byte("usage-identifier:" + raw))
	if id != "cpu-usage-"+hex.EncodeToString(sum[:])[:40] || len(id) != 50 {
		t.Fatalf("usage identifier %q", id)
	}
	if strings.Contains(id, raw) || strings.Contains(HashKey(raw), id[len("cpu-usage-"):]) {
		t.Fatal("usage identifier reveals the key or its lookup hash")
	}
	if UsageIdentifier(raw+"x") == id || UsageIdentifier(raw) != id {
		t.Fatal("usage identifier is not a function of the key")
	}
}

// TestAuthFailures: five failures in the window are free; then each failure blocks the pair for
// 1 s, 2 s, 4 s …, capped at 15 minutes and at the window's end; a window that ended counts
// for nothing.
func TestAuthFailures(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	var f AuthFailures
	for i := 1; i <= FailuresAllowed-1; i++ {
		f = f.After(start.Add(time.Duration(i) * time.Second))
		if _, blocked := f.Blocked(start.Add(time.Duration(i) * time.Second)); blocked || f.Count != i {
			t.Fatalf("failure %d blocks: %+v", i, f)
		}
	}
	at := start.Add(10 * time.Second)
	f = f.After(at)
	if wait, blocked := f.Blocked(at); !blocked || wait != time.Second {
		t.Fatalf("after failure 5: %v %v", wait, blocked)
	}
	if _, blocked := f.Blocked(at.Add(time.Second)); blocked {
		t.Fatal("still blocked when the block ended")
	}
	for i, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		at = at.Add(time.Minute)
		f = f.After(at)
		if wait, _ := f.Blocked(at); wait != want {
			t.Fatalf("failure %d: block %v, want %v", 6+i, wait, want)
		}
	}
	// Capped by the window's end (the window began with the first failure).
	at = f.WindowEnd.Add(-5 * time.Second)
	f = f.After(at)
	if wait, _ := f.Blocked(at); wait != 5*time.Second {
		t.Fatalf("block past the window's end: %v", wait)
	}
	// Many failures: never more than 15 minutes, no overflow.
	g := AuthFailures{Count: 200, WindowEnd: start.Add(time.Hour)}
	if g = g.After(start); g.BlockedUntil != start.Add(15*time.Minute) {
		t.Fatalf("cap: %v", g.BlockedUntil.Sub(start))
	}
	// After the window, a new one starts at one failure.
	later := f.WindowEnd.Add(time.Second)
	if f.Live(later) {
		t.Fatal("record outlives its window")
	}
	if n := f.After(later); n.Count != 1 || !n.WindowEnd.Equal(later.Add(FailureWindow)) || !n.BlockedUntil.IsZero() {
		t.Fatalf("new window: %+v", n)
	}
}
