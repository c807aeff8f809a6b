package people

import (
	"strings"
	"testing"
	"time"
)

// TestPasswordRules: length in characters, the blocklist (any case), the e-mail name; no
// composition rules.
func TestPasswordRules(t *testing.T) {
	for pw, want := range map[string]error{
		"short but fine":                 ErrPasswordShort,
		strings.Repeat("x", 129):         ErrPasswordLong,
		"PASSWORDPASSWORD":               ErrPasswordCommon,
		"1234567890123456789":            nil, // not on the list: a long digit run beyond the sequences
		"qwertyuiopasdfghjkl":            ErrPasswordCommon,
		"anna.peeters-123456":            ErrPasswordContext,
		"correct horse battery staple":   nil,
		"ünïcödé pässwörd fïftëën":       nil,
		"anna.peeters plus many words!!": nil, // the name inside a long enough rest is fine
	} {
		if got := CheckPassword(pw, "Anna.Peeters@example.com"); got != want {
			t.Errorf("%q: %v, want %v", pw, got, want)
		}
	}
}

// TestPasswordHash: argon2id in PHC form, salted, verified in constant time; an unknown user's
// empty hash never matches.
func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("%q %v", h, err)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h == h2 {
		t.Fatal("no salt")
	}
	if !VerifyPassword("correct horse battery staple", h) || VerifyPassword("correct horse battery stapl", h) || VerifyPassword("", "") {
		t.Fatal("verify")
	}
}

// TestLockOut: five wrong passwords within 15 minutes lock sign-in for 15 minutes; spread out, they
// do not.
func TestLockOut(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	var g Guard
	for i := 1; i <= LockAfter; i++ {
		if locked := g.Fail(t0.Add(time.Duration(i) * time.Minute)); locked != (i == LockAfter) {
			t.Fatalf("failure %d: locked %v", i, locked)
		}
	}
	if !g.Locked(t0.Add(10*time.Minute)) || g.Locked(t0.Add(21*time.Minute)) {
		t.Fatalf("lock window: %+v", g)
	}
	var spread Guard
	for i := 0; i < 10; i++ {
		if spread.Fail(t0.Add(time.Duration(i) * 4 * time.Minute)) {
			t.Fatalf("locked by failures 4 minutes apart at %d", i)
		}
	}
}

// TestChallenge: the code opens only its own challenge, before it expires, within five attempts,
// and never a challenge made for an unknown address.
func TestChallenge(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	c := Challenge{ID: "ch-1", UserID: "u-1", CodeHash: CodeHashFor("ch-1", "012345"), Expires: t0.Add(CodeValidity)}
	if !c.Matches("012345", t0) || c.Matches("012346", t0) || c.Matches("012345", t0.Add(CodeValidity)) {
		t.Fatal("code")
	}
	other := c
	other.ID = "ch-2"
	if other.Matches("012345", t0) {
		t.Fatal("a code opened another challenge")
	}
	c.Attempts = MaxCodeAttempts
	if c.Matches("012345", t0) {
		t.Fatal("beyond the attempts")
	}
	unknown := Challenge{ID: "ch-3", CodeHash: CodeHashFor("ch-3", "000000"), Expires: t0.Add(CodeValidity)}
	if unknown.Matches("000000", t0) {
		t.Fatal("an unknown address's challenge opened")
	}
	if len(NewCode()) != 6 || len(NewToken()) != 43 {
		t.Fatal("code or token shape")
	}
}
