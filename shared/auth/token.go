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

// TokenEndpoint issues bearer tokens (RFC 6749 §4.4).
type TokenEndpoint struct {
	Clients Clients
	Signer  identity.Signer
	Stage   string
	TTL     time.Duration
	Now     func() time.Time
	Log     *slog.Logger
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
	id, secret, ok := basicAuth(r.Header("Authorization"))
	if !ok {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" || secret == "" {
		return apigw.Response{}, oauthError(problem.KindUnauthorized, "invalid_client", "client authentication failed")
	}
	client, err := t.Clients.Client(ctx, id)
	var found *identity.Client
	switch {
	case err == nil:
		found = &client
	case !isNotFound(err):
		return apigw.Response{}, problem.Wrap(err, "read client")
	}
	if !identity.CheckSecret(found, secret) {
		t.Log.WarnContext(ctx, "client authentication failed", "clientId", id, "known", found != nil)
		return apigw.Response{}, oauthError(problem.KindUnauthorized, "invalid_client", "client authentication failed")
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
