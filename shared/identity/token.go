package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Audience of every token.
const Audience = "cpu"

// Signer signs a SHA-256 digest with an ECDSA P-256 key and returns the ASN.1 DER signature, which is
// what both KMS (ECDSA_SHA_256) and crypto/ecdsa.SignASN1 produce. In AWS the key never leaves KMS.
type Signer interface {
	SignDigest(ctx context.Context, digest []byte) ([]byte, error)
	KeyID() string
}

// Claims of a bearer token.
type Claims struct {
	jwt.RegisteredClaims
	EntityID string   `json:"ent"`
	Roles    []string `json:"roles"`
}

// Caller is who a verified token speaks for.
type Caller struct {
	ClientID string
	EntityID string
	Roles    []string
}

// Issuer of a stage's tokens: a token of staging is refused by production.
func Issuer(stage string) string { return "cpu-" + stage }

// IssueToken signs an ES256 JWT for the caller, valid for ttl.
func IssueToken(ctx context.Context, s Signer, stage string, c Caller, now time.Time, ttl time.Duration) (string, error) {
	return IssueTokenFor(ctx, s, stage, Audience, c, now, ttl)
}

// IssueTokenFor signs a token for another audience with the same key: the console's session
// tokens (audience "console", the subject a user id) are refused by the API's authorizer, and API
// tokens by the console.
func IssueTokenFor(ctx context.Context, s Signer, stage, audience string, c Caller, now time.Time, ttl time.Duration) (string, error) {
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer(stage),
			Subject:   c.ClientID,
			Audience:  jwt.ClaimStrings{audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        uuid.NewString(),
		},
		EntityID: c.EntityID,
		Roles:    c.Roles,
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": s.KeyID()})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	der, err := s.SignDigest(ctx, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	raw, err := derToRaw(der)
	if err != nil {
		return "", err
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(raw), nil
}

// derToRaw turns an ASN.1 ECDSA signature into JWS's fixed-width r||s (RFC 7518 §3.4).
func derToRaw(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil {
		return nil, errors.New("signature is not an ASN.1 ECDSA signature")
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

// Verifier checks tokens against the public half of the signing key.
type Verifier struct {
	key    *ecdsa.PublicKey
	issuer string
	parser *jwt.Parser
}

// NewVerifier for a stage's API tokens.
func NewVerifier(pub *ecdsa.PublicKey, stage string) *Verifier {
	return newVerifier(pub, stage, Audience)
}

// ForAudience is a verifier of the same key and stage for another audience (the console's).
func (v *Verifier) ForAudience(audience string) *Verifier {
	return newVerifier(v.key, strings.TrimPrefix(v.issuer, "cpu-"), audience)
}

func newVerifier(pub *ecdsa.PublicKey, stage, audience string) *Verifier {
	return &Verifier{
		key:    pub,
		issuer: Issuer(stage),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{"ES256"}),
			jwt.WithIssuer(Issuer(stage)),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(30*time.Second),
		),
	}
}

// ErrBadToken is returned for any token that must not be trusted; the reason goes to the logs only.
var ErrBadToken = errors.New("invalid bearer token")

// Verify parses and checks a token (signature, issuer, audience, expiry) and returns its caller.
func (v *Verifier) Verify(token string) (Caller, error) {
	var claims Claims
	_, err := v.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return v.key, nil })
	if err != nil {
		return Caller{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if claims.Subject == "" || claims.EntityID == "" {
		return Caller{}, fmt.Errorf("%w: missing subject or entity", ErrBadToken)
	}
	return Caller{ClientID: claims.Subject, EntityID: claims.EntityID, Roles: claims.Roles}, nil
}

// BearerToken extracts the token from an Authorization header value.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
