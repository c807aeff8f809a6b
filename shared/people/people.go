// Package people holds the console's users (contract §11): who they are, their roles and status,
// their passwords (NIST SP 800-63B rules, argon2id), the sign-in challenge with its e-mailed code,
// and the lock-out after repeated failures. Users are not API clients: they sign in to the console.
// No AWS types, no HTTP.
package people

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Errors of the people's storage.
var (
	ErrNotFound = errors.New("not found")
	ErrStale    = errors.New("changed concurrently")
	// ErrLastAdmin: the change would leave the entity without an active admin.
	ErrLastAdmin = errors.New("the last admin of an entity stays")
)

// Role of a user in its entity.
type Role string

const (
	Admin Role = "Admin"
	User  Role = "User"
)

// Platform roles, given by the support tooling (not by entities).
const (
	CommunityAdmin = "CommunityAdmin" // approves registrations, issues invitations
	AssetManager   = "AssetManager"   // approves subscriptions to the APIs that ask for it
)

// Status of a user.
type Status string

const (
	Invited Status = "Invited"
	Active  Status = "Active"
	Blocked Status = "Blocked"
)

// Person is a console user.
type Person struct {
	UserID    string    `json:"userId"`
	Email     string    `json:"email"` // folded (lower case, trimmed)
	FirstName string    `json:"firstName"`
	LastName  string    `json:"lastName"`
	EntityID  string    `json:"entity"`
	Role      Role      `json:"role"`
	Status    Status    `json:"status"`
	Platform  []string  `json:"platformRoles,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// AcceptedTerms records each set of terms the person accepted, with its version and when.
	AcceptedTerms []Accepted `json:"acceptedTerms,omitempty"`
	// PasswordHash is the argon2id hash in PHC form; never answered.
	PasswordHash string `json:"-"`
	Version      int    `json:"-"`
}

// Accepted is one acceptance of a set of terms.
type Accepted struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	At      time.Time `json:"at"`
}

// ActiveAdmin tells whether the person counts among its entity's admins.
func (p Person) ActiveAdmin() bool { return p.Role == Admin && p.Status == Active }

// HasPlatformRole tells whether the person holds a platform role.
func (p Person) HasPlatformRole(r string) bool {
	for _, x := range p.Platform {
		if x == r {
			return true
		}
	}
	return false
}

// Limits of a person's fields.
const (
	MaxEmailChars = 254
	MaxNameChars  = 70
)

// FoldEmail is an address as stored and compared: trimmed and lower-cased.
func FoldEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail tells whether s is one plain address (no display name) within the limit.
func ValidEmail(s string) bool {
	if len(s) == 0 || len(s) > MaxEmailChars {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s, ".")
}

// ValidName tells whether a first or last name is 1 to 70 characters without control characters.
func ValidName(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > MaxNameChars {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Password rules (NIST SP 800-63B-4 §3.1.1.2): length, a blocklist, nothing else.
const (
	// MinPasswordChars: our second factor is a code sent by e-mail, which 800-63B does not count
	// as an out-of-band authenticator, so the single-factor minimum applies.
	MinPasswordChars = 15
	MaxPasswordChars = 128
)

//go:embed common-passwords.txt
var commonList string

var common = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// Errors of a password, each naming its rule.
var (
	ErrPasswordShort   = fmt.Errorf("the password must have at least %d characters", MinPasswordChars)
	ErrPasswordLong    = fmt.Errorf("the password must have at most %d characters", MaxPasswordChars)
	ErrPasswordCommon  = errors.New("the password is on the list of common or breached passwords")
	ErrPasswordContext = errors.New("the password must not contain your e-mail name or the platform's name")
)

// CheckPassword applies the rules: length in characters (any characters, spaces included), not a
// listed password, not built on the user's e-mail name or the platform's name. No composition
// rules.
func CheckPassword(pw, email string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordChars:
		return ErrPasswordShort
	case n > MaxPasswordChars:
		return ErrPasswordLong
	case common[strings.ToLower(pw)]:
		return ErrPasswordCommon
	}
	lower := strings.ToLower(pw)
	local, _, _ := strings.Cut(FoldEmail(email), "@")
	for _, w := range []string{local, "nxtport", "certifiedpickup", "certified pick-up"} {
		if len(w) >= 4 && strings.Contains(lower, w) && utf8.RuneCountInString(strings.ReplaceAll(lower, w, "")) < MinPasswordChars {
			return ErrPasswordContext
		}
	}
	return nil
}

// argon2id parameters: OWASP's first recommendation (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// HashPassword hashes a password with argon2id and a random salt, in PHC form.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is verified against when there is no user, so that an unknown e-mail costs the same
// time as a known one (no enumeration by timing). Made on first use: every function links this
// package (through the store), and only the sign-in verifies passwords.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("an unknown user's password never matches this")
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return h
})

// VerifyPassword compares a password with a PHC argon2id hash in constant time. An empty hash (no
// such user) is verified against a dummy one, taking as long, and never matches.
func VerifyPassword(pw, phc string) bool {
	known := phc != ""
	if !known {
		phc = dummyHash()
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1 && known
}

// Sign-in rules (contract §11).
const (
	CodeValidity     = 10 * time.Minute
	MaxCodeAttempts  = 5
	LockAfter        = 5 // wrong passwords …
	LockWindow       = 15 * time.Minute
	LockFor          = 15 * time.Minute
	ConsoleTokenTTL  = time.Hour
	ConsoleAudience  = "console"
	TokenBytes       = 32 // random bytes of an invitation or confirmation token
	InvitationValid  = 7 * 24 * time.Hour
	ConfirmationTime = 48 * time.Hour
)

// NewCode draws a 6-digit sign-in code (leading zeros kept).
func NewCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// NewToken draws a link token: 32 random bytes, URL-safe.
func NewToken() string {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenHash is what is stored of a link token or a code: its SHA-256 (a token has 256 random
// bits; a code is bound to its challenge and tried at most five times).
func TokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Guard counts a user's wrong passwords and locks sign-in (contract §11: five in 15 minutes lock
// it for 15 minutes).
type Guard struct {
	Failures    []time.Time `json:"failures"`
	LockedUntil time.Time   `json:"lockedUntil"`
}

// Locked tells whether sign-in is locked at now.
func (g Guard) Locked(now time.Time) bool { return now.Before(g.LockedUntil) }

// Until is when the guard no longer matters: its lock and its window are over (its TTL).
func (g Guard) Until() time.Time {
	t := g.LockedUntil
	for _, f := range g.Failures {
		if w := f.Add(LockWindow); w.After(t) {
			t = w
		}
	}
	return t
}

// Fail records a wrong password; it answers whether this failure locked sign-in.
func (g *Guard) Fail(now time.Time) bool {
	var keep []time.Time
	for _, f := range g.Failures {
		if now.Sub(f) < LockWindow {
			keep = append(keep, f)
		}
	}
	g.Failures = append(keep, now)
	if len(g.Failures) >= LockAfter {
		g.Failures, g.LockedUntil = nil, now.Add(LockFor)
		return true
	}
	return false
}

// Challenge is a sign-in waiting for its e-mailed code. A challenge for an unknown address or a
// wrong password is made all the same (UserID empty): the answer does not tell them apart.
type Challenge struct {
	ID     string `json:"id"`
	UserID string `json:"userId,omitempty"`
	// EmailHash names the address's guard: wrong codes count towards its lock-out too.
	EmailHash string    `json:"emailHash"`
	CodeHash  string    `json:"codeHash,omitempty"`
	Expires   time.Time `json:"expires"`
	Attempts  int       `json:"attempts"`
	Used      bool      `json:"used"`
}

// Matches tells whether a code opens the challenge at now (and is within its attempts).
func (c Challenge) Matches(code string, now time.Time) bool {
	ok := subtle.ConstantTimeCompare([]byte(TokenHash(c.ID+"#"+code)), []byte(c.CodeHash)) == 1
	return ok && c.UserID != "" && !c.Used && now.Before(c.Expires) && c.Attempts < MaxCodeAttempts
}

// CodeHashFor binds a code to its challenge.
func CodeHashFor(challengeID, code string) string { return TokenHash(challengeID + "#" + code) }
