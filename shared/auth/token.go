// Package auth is the identity edge of the REST API: the client-credentials token endpoint and the
// REQUEST authorizer that checks token and subscription key before any function runs.
package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/problem"
)

// Clients is the storage port of the token endpoint; an unknown client is identity.ErrUnknown.
type Clients interface {
	Client(ctx context.Context, clientID string) (identity.Client, error)
	Entity(ctx context.Context, id string) (entity.Entity, error)
}

// FailureLog is the storage port of the slow-down: the failed client authentications of each
// (client id, source IP) pair (identity.AuthFailures has the rule).
type FailureLog interface {
	// AuthFailures reads the pair's record as stored (the zero record when there is none).
	AuthFailures(ctx context.Context, clientID, sourceIP string) (identity.AuthFailures, error)
	// SaveAuthFailures replaces prev, the record as read, with next; identity.ErrChanged when the
	// stored record is no longer prev.
	SaveAuthFailures(ctx context.Context, clientID, sourceIP string, prev, next identity.AuthFailures) error
	// ClearAuthFailures forgets the pair's failures.
	ClearAuthFailures(ctx context.Context, clientID, sourceIP string) error
}

// TokenEndpoint issues bearer tokens (RFC 6749 §4.4).
type TokenEndpoint struct {
	Clients  Clients
	Secrets  *identity.SecretHasher
	Failures FailureLog
	Signer   identity.Signer
	Stage    string
	TTL      time.Duration
	Now      func() time.Time
	Log      *slog.Logger
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// oauthError is a problem document that also carries RFC 6749 §5.2's "error" member, so that
// OAuth client libraries and problem+json readers both understand it.
func oauthError(kind problem.Kind, code, detail string) error {
	return &problem.Error{Kind: kind, Detail: detail, Extra: map[string]string{"error": code, "error_description": detail}}
}

// Handle serves POST /oauth2/token.
func (t *TokenEndpoint) Handle(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	mt, _, _ := mime.ParseMediaType(r.Header("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return apigw.Response{}, oauthError(problem.KindBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	if len(r.Body) > maxFormBytes {
		return apigw.Response{}, oauthError(problem.KindBadRequest, "invalid_request", "the form is larger than 4 KB")
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return apigw.Response{}, oauthError(problem.KindBadRequest, "invalid_request", "the body is not a valid form")
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			return apigw.Response{}, oauthError(problem.KindBadRequest, "invalid_request", "grant_type is required")
		}
		return apigw.Response{}, oauthError(problem.KindBadRequest, "unsupported_grant_type", "only grant_type=client_credentials is supported")
	}
	id, secret, basic := basicAuth(r.Header("Authorization"))
	if !basic {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	// RFC 6749 §5.2: a failed client authentication names the scheme the client used; Basic when it
	// sent credentials in the Authorization header.
	invalidClient := func() error {
		err := oauthError(problem.KindUnauthorized, "invalid_client", "client authentication failed").(*problem.Error)
		if basic {
			err.Headers = map[string]string{"WWW-Authenticate": `Basic realm="cpu"`}
		}
		return err
	}
	if id == "" || secret == "" || len(id) > maxClientIDBytes {
		return apigw.Response{}, invalidClient()
	}
	// A pair that failed too often is refused before anything else is read or computed: a blocked
	// attempt costs one GetItem.
	failures, err := t.Failures.AuthFailures(ctx, id, r.SourceIP)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read failed authentications")
	}
	now := t.Now()
	if wait, blocked := failures.Blocked(now); blocked {
		t.Log.WarnContext(ctx, "client authentication slowed down", "clientId", logged(id), "sourceIp", r.SourceIP, "failures", failures.Count)
		return apigw.Response{}, slowedDown(wait)
	}
	client, err := t.Clients.Client(ctx, id)
	var found *identity.Client
	switch {
	case err == nil:
		found = &client
	case !isNotFound(err):
		return apigw.Response{}, problem.Wrap(err, "read client")
	}
	if !t.Secrets.Check(found, secret) {
		count := t.recordFailure(ctx, id, r.SourceIP, failures, now)
		t.Log.WarnContext(ctx, "client authentication failed", "clientId", logged(id), "known", found != nil, "sourceIp", r.SourceIP, "failures", count)
		return apigw.Response{}, invalidClient()
	}
	if failures.Live(now) {
		// The client proved itself from this address: its earlier slips there no longer count.
		// Other addresses keep their records.
		if err := t.Failures.ClearAuthFailures(ctx, id, r.SourceIP); err != nil {
			t.Log.WarnContext(ctx, "clear failed authentications", "clientId", logged(id), "error", err.Error())
		}
	}
	ent, err := t.Clients.Entity(ctx, client.EntityID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read entity of client")
	}
	roles := make([]string, len(ent.Roles))
	for i, role := range ent.Roles {
		roles[i] = string(role)
	}
	tok, err := identity.IssueToken(ctx, t.Signer, t.Stage, identity.Caller{ClientID: client.ClientID, EntityID: ent.NxtEntityID, Roles: roles}, t.Now(), t.TTL)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "issue token")
	}
	resp, err := apigw.JSON(http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(t.TTL.Seconds())})
	resp.Headers["Cache-Control"] = "no-store"
	resp.Headers["Pragma"] = "no-cache"
	return resp, err
}

// recordAttempts bounds the rereads when concurrent failures of one pair race to count.
const recordAttempts = 4

// recordFailure counts a failed authentication of the pair and returns the count in its window. A
// storage failure is logged and does not change the answer: the caller did fail to authenticate.
func (t *TokenEndpoint) recordFailure(ctx context.Context, id, ip string, prev identity.AuthFailures, now time.Time) int {
	for attempt := 1; ; attempt++ {
		next := prev.After(now)
		err := t.Failures.SaveAuthFailures(ctx, id, ip, prev, next)
		if err == nil {
			return next.Count
		}
		if !errors.Is(err, identity.ErrChanged) || attempt == recordAttempts {
			t.Log.ErrorContext(ctx, "record failed authentication", "clientId", logged(id), "error", err.Error())
			return next.Count
		}
		if prev, err = t.Failures.AuthFailures(ctx, id, ip); err != nil {
			t.Log.ErrorContext(ctx, "record failed authentication", "clientId", logged(id), "error", err.Error())
			return next.Count
		}
	}
}

// slowedDown is the answer to a blocked pair: 429 with Retry-After in whole seconds (rounded up, so
// that a client that waits as told is not blocked again) and RFC 6749's temporarily_unavailable.
func slowedDown(wait time.Duration) error {
	seconds := int((wait + time.Second - 1) / time.Second)
	detail := "too many failed client authentications from this address; retry after " + strconv.Itoa(seconds) + " s"
	return &problem.Error{
		Kind: problem.KindRateLimited, Detail: detail, RetryAfterSeconds: max(seconds, 1),
		Extra: map[string]string{"error": "temporarily_unavailable", "error_description": detail},
	}
}

func isNotFound(err error) bool { return errors.Is(err, identity.ErrUnknown) }

func basicAuth(h string) (id, secret string, ok bool) {
	scheme, enc, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", "", false
	}
	id, secret, ok = strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	// RFC 6749 §2.3.1: both parts are form-url-encoded before base64.
	if u, err := url.QueryUnescape(id); err == nil {
		id = u
	}
	if u, err := url.QueryUnescape(secret); err == nil {
		secret = u
	}
	return id, secret, true
}

// Bounds of what a caller of the public token endpoint can make the platform read, store or log.
const (
	maxFormBytes     = 4096
	maxClientIDBytes = 128 // issued ids are 32 hex characters
)

// logged is a client id as the logs show it: never longer than an id can be.
func logged(id string) string {
	if len(id) > maxClientIDBytes {
		return id[:maxClientIDBytes] + "…"
	}
	return id
}
