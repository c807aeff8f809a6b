package auth

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/identity"
)

// Keys is the storage port of the authorizer; an unknown key is identity.ErrUnknown.
type Keys interface {
	SubscriptionKey(ctx context.Context, hash string) (identity.SubscriptionKey, error)
}

// KeyHeader carries the subscription key (contract §2).
const KeyHeader = "Ocp-Apim-Subscription-Key"

// ErrUnauthorized is the exact error text API Gateway turns into a 401 (any other error is a 500).
var ErrUnauthorized = errors.New("Unauthorized")

// Authorizer is the REST API's REQUEST authorizer.
type Authorizer struct {
	Verifier *identity.Verifier
	Keys     Keys
	Stage    string
	Log      *slog.Logger
	Now      func() time.Time
	// KeyCacheTTL keeps known keys in memory between invocations of a warm instance: most calls then
	// need no DynamoDB read. A revoked key stops working within this time.
	KeyCacheTTL time.Duration

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     identity.SubscriptionKey
	expires time.Time
}

// Handle checks the bearer token and, where the route wants it, the subscription key, and passes the
// caller to the function in the authorizer context. The policy allows the whole API so that API
// Gateway can cache the answer for the same credentials on any route.
func (a *Authorizer) Handle(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	headers := map[string]string{}
	for k, v := range ev.Headers {
		headers[strings.ToLower(k)] = v
	}
	deny := func(reason string, attrs ...any) (events.APIGatewayCustomAuthorizerResponse, error) {
		a.Log.InfoContext(ctx, "unauthorized", append([]any{"reason", reason, "resource", ev.Resource}, attrs...)...)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	token, ok := identity.BearerToken(headers["authorization"])
	if !ok {
		return deny("no bearer token")
	}
	caller, err := a.Verifier.Verify(token)
	if err != nil {
		return deny("bad token", "error", err.Error())
	}
	mode := routeAuth(ev.Resource, ev.HTTPMethod)
	rawKey := strings.TrimSpace(headers[strings.ToLower(KeyHeader)])
	usageKey := identity.ClientUsageKey(caller.ClientID)
	switch {
	case rawKey == "" && mode == catalog.TokenAndKey:
		return deny("no subscription key", "clientId", caller.ClientID)
	case rawKey != "":
		key, err := a.lookup(ctx, rawKey)
		if errors.Is(err, identity.ErrUnknown) {
			return deny("unknown subscription key", "clientId", caller.ClientID)
		}
		if err != nil {
			// Not a 401: the caller did nothing wrong and may retry.
			a.Log.ErrorContext(ctx, "read subscription key", "error", err.Error())
			return events.APIGatewayCustomAuthorizerResponse{}, err
		}
		if key.EntityID != caller.EntityID || key.Environment != a.Stage || key.API != catalog.SubscriptionAPI {
			return deny("subscription key of another entity, API or environment", "clientId", caller.ClientID)
		}
		// API Gateway counts the usage plan on this value and keeps it as the API key's value; it
		// is derived from the key so that API Gateway never holds the key itself.
		usageKey = identity.UsageIdentifier(rawKey)
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: caller.ClientID,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   "Allow",
				Resource: []string{apiWildcard(ev.MethodArn)},
			}},
		},
		Context: map[string]any{
			apigw.CtxEntityID: caller.EntityID,
			apigw.CtxClientID: caller.ClientID,
			apigw.CtxRoles:    strings.Join(caller.Roles, ","),
		},
		UsageIdentifierKey: usageKey,
	}, nil
}

func (a *Authorizer) lookup(ctx context.Context, raw string) (identity.SubscriptionKey, error) {
	hash := identity.HashKey(raw)
	now := a.Now()
	a.mu.Lock()
	c, ok := a.cache[hash]
	a.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.key, nil
	}
	key, err := a.Keys.SubscriptionKey(ctx, hash)
	if err != nil {
		return key, err
	}
	a.mu.Lock()
	if a.cache == nil || len(a.cache) > 10000 {
		a.cache = map[string]cachedKey{}
	}
	a.cache[hash] = cachedKey{key: key, expires: now.Add(a.KeyCacheTTL)}
	a.mu.Unlock()
	return key, nil
}

// routeModes maps "METHOD /path" to the route's auth mode, built once per cold start.
var routeModes = func() map[string]catalog.AuthMode {
	m := map[string]catalog.AuthMode{}
	for _, f := range catalog.Functions() {
		if r := f.Trigger.Route; r != nil {
			m[strings.ToUpper(r.Method)+" "+r.Path] = r.Auth
		}
	}
	return m
}()

// routeAuth finds a route's auth mode in the catalog; unknown routes demand everything.
func routeAuth(resource, method string) catalog.AuthMode {
	if mode, ok := routeModes[strings.ToUpper(method)+" "+resource]; ok {
		return mode
	}
	return catalog.TokenAndKey
}

// apiWildcard turns arn:aws:execute-api:region:acct:api/stage/METHOD/path into .../stage/*/*.
func apiWildcard(methodArn string) string {
	parts := strings.SplitN(methodArn, "/", 3)
	if len(parts) < 2 {
		return methodArn
	}
	return parts[0] + "/" + parts[1] + "/*/*"
}
