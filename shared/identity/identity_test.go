package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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
	c, secret, err := NewClient("NXT1", "", "", now)
	if err != nil || len(secret) < 32 || c.SecretHash == secret || !CheckSecret(&c, secret) || CheckSecret(&c, secret+"x") || CheckSecret(nil, secret) {
		t.Fatal("client secret handling", err)
	}
	if _, _, err := NewClient("NXT1", "id", "short", now); err == nil {
		t.Fatal("short secret accepted")
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
