// Package webhook is the domain of notification channels (contract §9): a channel and the rules of
// its fields, the Standard Webhooks signature, the retry schedule, what an attempt's answer means,
// and the delivery job. It knows nothing of AWS or of the network: the address rules are applied
// through a URLCheck the caller supplies (shared/egress in production).
package webhook

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/problem"
)

// AuthType is how the platform authenticates to a receiver.
type AuthType string

const (
	AuthNone              AuthType = "None"
	AuthClientCredentials AuthType = "OAuth2ClientCredentials"
	AuthPassword          AuthType = "OAuth2Password"
)

// Status of a channel.
const (
	StatusActive   = "Active"
	StatusDisabled = "Disabled"
)

// Limits of a channel, checked when a request is decoded (400 naming the field). They keep a
// channel item a few kilobytes and every delivery's headers far inside what receivers accept.
const (
	MaxChannels        = 5
	MaxNameChars       = 100
	MaxHeaders         = 10
	MaxHeaderNameChars = 64
	MaxHeaderValue     = 1024
	MaxFilterValues    = 50
	MaxCredentialChars = 1024
	MaxScopesChars     = 1024
	// MaxURLChars bounds url and tokenEndpoint (egress.MaxURLChars, checked here first so the
	// answer names the field).
	MaxURLChars = 2048
)

// Authentication is a channel's way of authenticating to its receiver. Secrets are write-only:
// ClientSecret and Password are only ever set from a request; what is stored is sealed.
type Authentication struct {
	Type          AuthType          `json:"type"`
	TokenEndpoint string            `json:"tokenEndpoint,omitempty"`
	ClientID      string            `json:"clientId,omitempty"`
	Username      string            `json:"username,omitempty"`
	Scopes        string            `json:"scopes,omitempty"`
	AuthHeaders   map[string]string `json:"authHeaders,omitempty"`
}

// OAuth tells whether the platform fetches a token for the receiver.
func (a Authentication) OAuth() bool {
	return a.Type == AuthClientCredentials || a.Type == AuthPassword
}

// SigningKey is one signing secret of a channel, sealed at rest. During a rotation the previous
// key signs beside the new one until Until.
type SigningKey struct {
	Sealed    []byte     `json:"sealed"`
	CreatedOn time.Time  `json:"createdOn"`
	Until     *time.Time `json:"until,omitempty"`
}

// Channel is an entity's webhook endpoint with everything a delivery needs.
type Channel struct {
	ID             string            `json:"channelId"`
	EntityID       string            `json:"nxtEntityId"`
	Name           string            `json:"name"`
	URL            string            `json:"url"`
	Headers        map[string]string `json:"headers"`
	Auth           Authentication    `json:"authentication"`
	Filter         []string          `json:"filter"`
	Enabled        bool              `json:"enabled"`
	Status         string            `json:"status"`
	DisabledReason string            `json:"disabledReason,omitempty"`
	DisabledSince  *time.Time        `json:"disabledSince,omitempty"`
	CreatedOn      time.Time         `json:"createdOn"`
	// Version grows with every change; deliverers key their caches of opened secrets and tokens
	// on it, and writes are conditioned on it.
	Version int `json:"version"`
	// FailingSince is the first failed attempt since the last delivered one (the 72-hour rule).
	FailingSince *time.Time `json:"failingSince,omitempty"`
	// SigningKeys: the current key first, then the previous one during a rotation.
	SigningKeys []SigningKey `json:"signingKeys"`
	// SealedClientSecret and SealedPassword are the OAuth2 secrets, sealed.
	SealedClientSecret []byte `json:"sealedClientSecret,omitempty"`
	SealedPassword     []byte `json:"sealedPassword,omitempty"`
	// SealedToken is the bearer token last fetched from the receiver's token endpoint, shared by
	// every deliverer until TokenExpires (shortly before the token's own expiry), so the fleet
	// fetches one token per lifetime, not one per instance.
	SealedToken  []byte     `json:"sealedToken,omitempty"`
	TokenExpires *time.Time `json:"tokenExpires,omitempty"`
}

// Deliverable tells whether the channel takes deliveries now.
func (c Channel) Deliverable() bool { return c.Enabled && c.Status == StatusActive }

// ActiveKeys are the signing keys that sign at t: the current one, and the previous one until its
// rotation window closes.
func (c Channel) ActiveKeys(t time.Time) []SigningKey {
	var out []SigningKey
	for _, k := range c.SigningKeys {
		if k.Until == nil || t.Before(*k.Until) {
			out = append(out, k)
		}
	}
	return out
}

// Matches tells whether the channel's filter lets a notification of type and event through: no
// filter lets everything through; a value is a type or type/event (canonical case, see
// CanonicalFilter).
func (c Channel) Matches(typ, event string) bool {
	if len(c.Filter) == 0 {
		return true
	}
	for _, f := range c.Filter {
		if f == typ || f == typ+"/"+event {
			return true
		}
	}
	return false
}

// View is a channel as the API answers it: no secret, ever.
type View struct {
	ChannelID      string            `json:"channelId"`
	Name           string            `json:"name"`
	URL            string            `json:"url"`
	Headers        map[string]string `json:"headers"`
	Authentication Authentication    `json:"authentication"`
	Filter         []string          `json:"filter"`
	Enabled        bool              `json:"enabled"`
	Status         string            `json:"status"`
	DisabledReason *string           `json:"disabledReason"`
	DisabledSince  *string           `json:"disabledSince"`
	CreatedOn      string            `json:"createdOn"`
}

// Hidden stands in the API's answers for the value of a header that holds a credential (a name
// with auth, key, token, secret, password, signature, subscription, cookie, session or credential
// in it): such values are write-only like the other secrets. Sent back in a PUT, it keeps the
// stored value.
const Hidden = "(write-only)"

// credentialWords mark a header whose value is a credential (Authorization, X-Api-Key,
// Ocp-Apim-Subscription-Key, X-Functions-Key, X-Auth-Token, Cookie, …).
var credentialWords = []string{"auth", "key", "token", "secret", "password", "signature", "subscription", "cookie", "session", "credential"}

func credentialHeader(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range credentialWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

func hideCredentials(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if credentialHeader(k) {
			v = Hidden
		}
		out[k] = v
	}
	return out
}

// ViewOf is the API's view of a channel: no secret, no credential header's value.
func ViewOf(c Channel) View {
	auth := c.Auth
	if auth.AuthHeaders != nil {
		auth.AuthHeaders = hideCredentials(auth.AuthHeaders)
	}
	v := View{
		ChannelID: c.ID, Name: c.Name, URL: c.URL, Headers: hideCredentials(c.Headers), Authentication: auth, Filter: c.Filter,
		Enabled: c.Enabled, Status: c.Status, CreatedOn: c.CreatedOn.UTC().Format(time.RFC3339),
	}
	if v.Headers == nil {
		v.Headers = map[string]string{}
	}
	if v.Filter == nil {
		v.Filter = []string{}
	}
	if c.Status == StatusDisabled {
		reason := c.DisabledReason
		v.DisabledReason = &reason
		if c.DisabledSince != nil {
			s := c.DisabledSince.UTC().Format(time.RFC3339)
			v.DisabledSince = &s
		}
	}
	return v
}

// Request is the body of a create or replace (PUT) call. Secrets are write-only: on a replace, a
// secret left out keeps its stored value.
type Request struct {
	Name           string             `json:"name"`
	URL            string             `json:"url"`
	Headers        map[string]string  `json:"headers"`
	Authentication *AuthenticationReq `json:"authentication"`
	Filter         []string           `json:"filter"`
	Enabled        *bool              `json:"enabled"`
}

// AuthenticationReq is the authentication part of a request, secrets included.
type AuthenticationReq struct {
	Type          string            `json:"type"`
	TokenEndpoint string            `json:"tokenEndpoint"`
	ClientID      string            `json:"clientId"`
	ClientSecret  *string           `json:"clientSecret"`
	Username      string            `json:"username"`
	Password      *string           `json:"password"`
	Scopes        string            `json:"scopes"`
	AuthHeaders   map[string]string `json:"authHeaders"`
}

// URLCheck judges an address a channel will be sent to (its url or tokenEndpoint): the address
// rules of contract §9. It answers a sentence fit for a 400, or nil.
type URLCheck func(ctx context.Context, rawURL string) error

// Checked is a request that passed every rule, in canonical form.
type Checked struct {
	Name         string
	URL          string
	Headers      map[string]string
	Auth         Authentication
	ClientSecret *string
	Password     *string
	Filter       []string
	Enabled      bool
}

// Check applies the rules of contract §9 to a request. stored says which write-only secrets the
// channel already holds (a replace may leave them out); nil on a create.
func Check(ctx context.Context, r Request, checkURL URLCheck, stored *Channel) (Checked, error) {
	var v problem.Validation
	out := Checked{Name: r.Name, URL: r.URL, Enabled: r.Enabled == nil || *r.Enabled}
	switch n := utf8.RuneCountInString(r.Name); {
	case n == 0:
		v.Add("name", "'name' must not be empty.")
	case n > MaxNameChars:
		v.Add("name", "'name' must be at most %d characters; it has %d.", MaxNameChars, n)
	case !plain(r.Name):
		v.Add("name", "'name' must not contain control characters.")
	}
	checkAddress(ctx, &v, "url", r.URL, checkURL)
	var storedHeaders map[string]string
	if stored != nil {
		storedHeaders = stored.Headers
	}
	out.Headers = restoreHidden(&v, "headers", checkHeaders(&v, "headers", r.Headers), storedHeaders)
	auth := AuthenticationReq{Type: string(AuthNone)}
	if r.Authentication != nil {
		auth = *r.Authentication
	}
	out.Auth, out.ClientSecret, out.Password = checkAuth(ctx, &v, auth, checkURL, stored)
	if !out.Auth.OAuth() {
		// With the OAuth2 types the platform sets Authorization itself; with None a static bearer
		// in headers is how a receiver's fixed token is sent (NxtPort's own guidance).
	} else if _, ok := headerNamed(out.Headers, "Authorization"); ok {
		v.Add("headers", "'headers' must not set Authorization when the authentication type is %s: the platform sends the token it fetches.", out.Auth.Type)
	}
	out.Filter = checkFilter(&v, r.Filter)
	return out, v.Err()
}

func checkAddress(ctx context.Context, v *problem.Validation, field, raw string, checkURL URLCheck) {
	switch n := utf8.RuneCountInString(raw); {
	case n == 0:
		v.Add(field, "'%s' must not be empty.", field)
		return
	case n > MaxURLChars:
		v.Add(field, "'%s' must be at most %d characters; it has %d.", field, MaxURLChars, n)
		return
	}
	if err := checkURL(ctx, raw); err != nil {
		v.Add(field, "'%s' is not allowed: %s", field, err.Error())
	}
}

func checkAuth(ctx context.Context, v *problem.Validation, a AuthenticationReq, checkURL URLCheck, stored *Channel) (Authentication, *string, *string) {
	const f = "authentication"
	typ, ok := authTypeOf(a.Type)
	if !ok {
		v.Add(f+".type", "'authentication.type' must be one of None, OAuth2ClientCredentials, OAuth2Password.")
		return Authentication{Type: AuthNone}, nil, nil
	}
	out := Authentication{Type: typ}
	if typ == AuthNone {
		if a.TokenEndpoint != "" || a.ClientID != "" || a.ClientSecret != nil || a.Username != "" || a.Password != nil || a.Scopes != "" || len(a.AuthHeaders) > 0 {
			v.Add(f, "'authentication' of type None takes no other field.")
		}
		return out, nil, nil
	}
	out.TokenEndpoint, out.ClientID, out.Scopes = a.TokenEndpoint, a.ClientID, a.Scopes
	checkAddress(ctx, v, f+".tokenEndpoint", a.TokenEndpoint, checkURL)
	required := func(field, value string) {
		switch n := utf8.RuneCountInString(value); {
		case n == 0:
			v.Add(f+"."+field, "'authentication.%s' is required for %s.", field, typ)
		case n > MaxCredentialChars:
			v.Add(f+"."+field, "'authentication.%s' must be at most %d characters.", field, MaxCredentialChars)
		case !plain(value):
			v.Add(f+"."+field, "'authentication.%s' must not contain control characters.", field)
		}
	}
	required("clientId", a.ClientID)
	secret := func(field string, value *string, have bool) {
		if value == nil {
			if !have {
				v.Add(f+"."+field, "'authentication.%s' is required for %s.", field, typ)
			}
			return
		}
		required(field, *value)
	}
	secret("clientSecret", a.ClientSecret, stored != nil && len(stored.SealedClientSecret) > 0)
	if typ == AuthPassword {
		required("username", a.Username)
		out.Username = a.Username
		secret("password", a.Password, stored != nil && len(stored.SealedPassword) > 0)
	} else if a.Username != "" || a.Password != nil {
		v.Add(f, "'authentication' of type %s takes no username or password.", typ)
	}
	if n := utf8.RuneCountInString(a.Scopes); n > MaxScopesChars || !plain(a.Scopes) {
		v.Add(f+".scopes", "'authentication.scopes' must be at most %d characters of plain text.", MaxScopesChars)
	}
	var storedAuthHeaders map[string]string
	if stored != nil {
		storedAuthHeaders = stored.Auth.AuthHeaders
	}
	out.AuthHeaders = restoreHidden(v, f+".authHeaders", checkHeaders(v, f+".authHeaders", a.AuthHeaders), storedAuthHeaders)
	if _, ok := headerNamed(out.AuthHeaders, "Authorization"); ok {
		v.Add(f+".authHeaders", "'authentication.authHeaders' must not set Authorization: the client authenticates with HTTP Basic.")
	}
	var password *string
	if typ == AuthPassword {
		password = a.Password
	}
	return out, a.ClientSecret, password
}

func authTypeOf(s string) (AuthType, bool) {
	if s == "" {
		return AuthNone, true
	}
	for _, t := range []AuthType{AuthNone, AuthClientCredentials, AuthPassword} {
		if strings.EqualFold(s, string(t)) {
			return t, true
		}
	}
	return "", false
}

// forbiddenHeaders are set by the platform or by HTTP itself: a channel may not send them.
var forbiddenHeaders = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-authenticate": true, "proxy-authorization": true, "proxy-connection": true,
	"te": true, "trailer": true, "transfer-encoding": true, "upgrade": true, "host": true, "content-length": true,
	"content-type": true, "content-encoding": true,
}

func checkHeaders(v *problem.Validation, field string, h map[string]string) map[string]string {
	if len(h) > MaxHeaders {
		v.Add(field, "'%s' must hold at most %d headers; it holds %d.", field, MaxHeaders, len(h))
		return nil
	}
	out := make(map[string]string, len(h))
	for name, value := range h {
		lower := strings.ToLower(name)
		switch {
		case !token(name) || len(name) > MaxHeaderNameChars:
			v.Add(field, "'%s' has a header name that is not an HTTP token of at most %d characters: %q.", field, MaxHeaderNameChars, truncate(name))
		case forbiddenHeaders[lower] || strings.HasPrefix(lower, "webhook-"):
			v.Add(field, "'%s' must not set %s: the platform or HTTP sets it.", field, name)
		case len(value) > MaxHeaderValue || !headerValue(value):
			v.Add(field, "'%s' has a value for %s that is not at most %d bytes of visible text.", field, name, MaxHeaderValue)
		}
		if _, dup := headerNamed(out, name); dup {
			v.Add(field, "'%s' names %s twice (header names are case-insensitive).", field, name)
		}
		out[name] = value
	}
	return out
}

// restoreHidden puts back the stored value of a credential header sent as Hidden (a PUT of what a
// GET answered); with no stored value there is nothing to keep.
func restoreHidden(v *problem.Validation, field string, h, stored map[string]string) map[string]string {
	for k, val := range h {
		if val != Hidden {
			continue
		}
		if old, ok := headerNamed(stored, k); ok && credentialHeader(k) {
			h[k] = old
		} else {
			v.Add(field, "'%s' sends %s as %q, which keeps a stored value only: send the value itself.", field, k, Hidden)
		}
	}
	return h
}

func headerNamed(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// token: RFC 9110 §5.6.2.
func token(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// headerValue: visible ASCII and spaces (RFC 9110 field-value without obsolete text), so a value
// travels the same through every proxy.
func headerValue(s string) bool {
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func plain(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Types and events a filter may name: those of the notifications the platform stores (§7, §9).
var (
	Types  = []string{"ReleaseLight", "ReleaseRight", "TerminalEvent", TypeChannel}
	events = notification.Events // ChannelDisabled among them
)

// The channel's own notifications.
const (
	TypeChannel          = "Channel"
	EventChannelDisabled = "ChannelDisabled"
	EventPing            = "Ping"
)

func checkFilter(v *problem.Validation, values []string) []string {
	if len(values) > MaxFilterValues {
		v.Add("filter", "'filter' must hold at most %d values; it holds %d.", MaxFilterValues, len(values))
		return nil
	}
	out := []string{}
	seen := map[string]bool{}
	for _, raw := range values {
		c, ok := CanonicalFilter(raw)
		if !ok {
			v.Add("filter", "'filter' has an unknown value %q: use a type (%s) or type/event.", truncate(raw), strings.Join(Types, ", "))
			continue
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// CanonicalFilter turns a filter value (any case) into its canonical spelling.
func CanonicalFilter(raw string) (string, bool) {
	typ, event, hasEvent := strings.Cut(raw, "/")
	t, ok := fold(Types, typ)
	if !ok {
		return "", false
	}
	if !hasEvent {
		return t, true
	}
	e, ok := fold(events, event)
	if !ok {
		return "", false
	}
	return t + "/" + e, true
}

func fold(set []string, s string) (string, bool) {
	for _, v := range set {
		if strings.EqualFold(v, s) {
			return v, true
		}
	}
	return "", false
}
