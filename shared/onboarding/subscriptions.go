package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/mail"
	"github.com/portcommunity/cpu/shared/marketplace"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/secretbox"
	"github.com/portcommunity/cpu/shared/signin"
)

// SubscriptionStore is the storage port of subscriptions (shared/store implements it).
type SubscriptionStore interface {
	Subscription(ctx context.Context, entityID, api string) (marketplace.Subscription, error)
	SubscriptionsOf(ctx context.Context, entityID string) ([]marketplace.Subscription, error)
	SubscriptionsIn(ctx context.Context, status string, limit int) ([]marketplace.Subscription, error)
	SaveSubscription(ctx context.Context, sub marketplace.Subscription, read int, add []identity.SubscriptionKey, revoke []string) error
	Membership(ctx context.Context, entityID string) (people.Membership, error)
	PlatformPeople(ctx context.Context, role string) ([]string, error)
	Person(ctx context.Context, userID string) (people.Person, error)
	PeopleOf(ctx context.Context, entityID string) ([]people.Person, error)
}

// Subscriptions serves the marketplace (contract §11): the APIs, subscribing, the keys shown to
// admins and regenerated one at a time, cancelling, and the asset manager's approvals.
type Subscriptions struct {
	Store    SubscriptionStore
	Mail     mail.Sender
	Sessions signin.Sessions
	// Box seals the keys (bound to the subscription) so admins can see them again.
	Box        secretbox.Box
	Plan       UsagePlan
	Stage      string
	ConsoleURL string
	Now        func() time.Time
	Log        *slog.Logger
}

// SubscriptionView is a subscription as answered: never the keys, only their first characters.
type SubscriptionView struct {
	marketplace.Subscription
	PrimaryKeyPrefix   string `json:"primaryKeyPrefix,omitempty"`
	SecondaryKeyPrefix string `json:"secondaryKeyPrefix,omitempty"`
}

func view(s marketplace.Subscription) SubscriptionView {
	v := SubscriptionView{Subscription: s}
	if s.Keys != nil {
		v.PrimaryKeyPrefix, v.SecondaryKeyPrefix = s.Keys.PrimaryPrefix, s.Keys.SecondaryPrefix
	}
	return v
}

// HandleAPIs serves GET /onboarding/v1/apis.
func (h *Subscriptions) HandleAPIs(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if _, err := h.Sessions.Require(ctx, r); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, map[string]any{"environment": marketplace.EnvironmentOf(h.Stage), "apis": marketplace.APIs})
}

func (h *Subscriptions) admin(ctx context.Context, r *apigw.Request) (signin.Caller, error) {
	c, err := h.Sessions.Require(ctx, r)
	if err == nil && c.Role != people.Admin {
		err = problem.New(problem.KindUnauthorized, "only an admin of the company manages its subscriptions")
	}
	return c, err
}

type subscribeRequest struct {
	API          string `json:"api"`
	Environment  string `json:"environment"`
	TermsVersion string `json:"termsVersion"`
}

// HandleSubscribe serves POST /onboarding/v1/subscriptions: an admin of an approved member
// subscribes; an API that needs approval waits for its asset manager (e-mailed), others are
// approved at once with their two keys.
func (h *Subscriptions) HandleSubscribe(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	c, err := h.admin(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var req subscribeRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	api, ok := marketplace.Lookup(req.API)
	switch {
	case !ok:
		return apigw.Response{}, problem.Field("api", "'api' must be one of the marketplace's APIs (GET /onboarding/v1/apis).")
	case req.Environment != marketplace.EnvironmentOf(h.Stage):
		return apigw.Response{}, problem.Field("environment", "'environment' must be %s: this console serves that environment; the other has its own.", marketplace.EnvironmentOf(h.Stage))
	case req.TermsVersion != api.TermsVersion:
		return apigw.Response{}, problem.Field("termsVersion", "'termsVersion' must be the version of the API's terms you accept: %s.", api.TermsVersion)
	}
	m, err := h.Store.Membership(ctx, c.EntityID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read the membership")
	}
	if m.Status != people.MemberApproved {
		return apigw.Response{}, problem.New(problem.KindConflict, "the company's membership is %s: it subscribes once approved", m.Status)
	}
	read := 0
	if cur, err := h.Store.Subscription(ctx, c.EntityID, api.ID); err == nil && cur.Open() {
		return apigw.Response{}, problem.New(problem.KindConflict, "the company's subscription to %s is %s already", api.ID, cur.Status)
	} else if err != nil && !errors.Is(err, people.ErrNotFound) {
		return apigw.Response{}, problem.Wrap(err, "read the subscription")
	}
	now := h.Now().UTC()
	sub := marketplace.Subscription{EntityID: c.EntityID, API: api.ID, Environment: req.Environment, TermsVersion: req.TermsVersion,
		Status: marketplace.Pending, RequestedBy: c.UserID, CreatedAt: now}
	var add []identity.SubscriptionKey
	if !api.RequiresApproval {
		sub.Status, sub.DecidedAt = marketplace.Approved, &now
		if add, err = h.issueKeys(ctx, &sub, now); err != nil {
			return apigw.Response{}, err
		}
	}
	switch err := h.Store.SaveSubscription(ctx, sub, read, add, nil); {
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, problem.New(problem.KindConflict, "the company subscribed to %s meanwhile", api.ID)
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "store the subscription")
	}
	if api.RequiresApproval {
		h.tellAssetManagers(ctx, sub, m.Name)
	}
	return apigw.JSON(http.StatusCreated, view(sub))
}

// issueKeys makes both keys, registers their usage identifiers with the stage's usage plan and
// seals them onto the subscription.
func (h *Subscriptions) issueKeys(ctx context.Context, sub *marketplace.Subscription, now time.Time) ([]identity.SubscriptionKey, error) {
	primary, pRaw, err := identity.NewSubscriptionKey(sub.EntityID, sub.API, h.Stage, "", now)
	if err != nil {
		return nil, problem.Wrap(err, "make a key")
	}
	secondary, sRaw, err := identity.NewSubscriptionKey(sub.EntityID, sub.API, h.Stage, "", now)
	if err != nil {
		return nil, problem.Wrap(err, "make a key")
	}
	if _, err := h.Plan.Register(ctx, "cpu-"+h.Stage+"-"+sub.EntityID+"-"+sub.API, identity.UsageIdentifier(pRaw), identity.UsageIdentifier(sRaw)); err != nil {
		return nil, problem.Wrap(err, "register the keys with the usage plan")
	}
	ps, err := h.Box.Seal(ctx, []byte(pRaw), sub.ID())
	if err != nil {
		return nil, problem.Wrap(err, "seal a key")
	}
	ss, err := h.Box.Seal(ctx, []byte(sRaw), sub.ID())
	if err != nil {
		return nil, problem.Wrap(err, "seal a key")
	}
	sub.Keys = &marketplace.SealedKeys{Primary: ps, Secondary: ss, PrimaryHash: primary.Hash, SecondaryHash: secondary.Hash,
		PrimaryPrefix: primary.Prefix, SecondaryPrefix: secondary.Prefix}
	return []identity.SubscriptionKey{primary, secondary}, nil
}

func (h *Subscriptions) tellAssetManagers(ctx context.Context, sub marketplace.Subscription, company string) {
	ids, err := h.Store.PlatformPeople(ctx, people.AssetManager)
	if err != nil {
		h.Log.ErrorContext(ctx, "asset managers not read", "error", err.Error())
		return
	}
	for _, id := range ids {
		p, err := h.Store.Person(ctx, id)
		if err != nil || p.Status != people.Active {
			continue
		}
		msg := mail.Compose(p.Email, "A subscription waits for your approval", "Dear "+p.FirstName+",",
			[]string{fmt.Sprintf("%s (%s) asks to subscribe to %s in %s.", company, sub.EntityID, sub.API, sub.Environment)}, "Review it in the console", h.ConsoleURL)
		if _, err := h.Mail.Send(ctx, msg); err != nil {
			h.Log.ErrorContext(ctx, "approval request not sent", "error", err.Error())
		}
	}
}

// HandleList serves GET /onboarding/v1/subscriptions: the company's subscriptions (admins), or with
// ?status=PendingApproval the asset manager's queue.
func (h *Subscriptions) HandleList(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	c, err := h.Sessions.Require(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var subs []marketplace.Subscription
	if q := r.Query["status"]; len(q) > 0 {
		if !c.Has(people.AssetManager) || q[0] != marketplace.Pending {
			return apigw.Response{}, problem.New(problem.KindUnauthorized, "only an asset manager lists the subscriptions waiting for approval")
		}
		subs, err = h.Store.SubscriptionsIn(ctx, marketplace.Pending, 100)
	} else {
		if c.Role != people.Admin {
			return apigw.Response{}, problem.New(problem.KindUnauthorized, "only an admin of the company reads its subscriptions")
		}
		subs, err = h.Store.SubscriptionsOf(ctx, c.EntityID)
	}
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "list subscriptions")
	}
	out := make([]SubscriptionView, len(subs))
	for i, s := range subs {
		out[i] = view(s)
	}
	return apigw.JSON(http.StatusOK, out)
}

// Keys is the answer with a subscription's two keys (admins).
type Keys struct {
	API          string `json:"api"`
	Environment  string `json:"environment"`
	PrimaryKey   string `json:"primaryKey"`
	SecondaryKey string `json:"secondaryKey"`
}

func (h *Subscriptions) approved(ctx context.Context, c signin.Caller, api string) (marketplace.Subscription, error) {
	if _, ok := marketplace.Lookup(api); !ok {
		return marketplace.Subscription{}, problem.Field("api", "'api' must be one of the marketplace's APIs (GET /onboarding/v1/apis).")
	}
	sub, err := h.Store.Subscription(ctx, c.EntityID, api)
	switch {
	case errors.Is(err, people.ErrNotFound):
		return sub, problem.New(problem.KindUnauthorized, "the company has no subscription to %q", api)
	case err != nil:
		return sub, problem.Wrap(err, "read the subscription")
	case sub.Status != marketplace.Approved || sub.Keys == nil:
		return sub, problem.New(problem.KindConflict, "the subscription is %s: it has no keys", sub.Status)
	}
	return sub, nil
}

func (h *Subscriptions) keysOf(ctx context.Context, sub marketplace.Subscription) (Keys, error) {
	p, err := h.Box.Open(ctx, sub.Keys.Primary, sub.ID())
	if err != nil {
		return Keys{}, problem.Wrap(err, "open a key")
	}
	s, err := h.Box.Open(ctx, sub.Keys.Secondary, sub.ID())
	if err != nil {
		return Keys{}, problem.Wrap(err, "open a key")
	}
	return Keys{API: sub.API, Environment: sub.Environment, PrimaryKey: string(p), SecondaryKey: string(s)}, nil
}

// HandleKeys serves GET /onboarding/v1/subscriptions/{api}/keys (admins).
func (h *Subscriptions) HandleKeys(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	c, err := h.admin(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	sub, err := h.approved(ctx, c, r.PathParams["api"])
	if err != nil {
		return apigw.Response{}, err
	}
	keys, err := h.keysOf(ctx, sub)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, keys)
}

// HandleRegenerate serves POST /onboarding/v1/subscriptions/{api}/keys/{which}/regenerate: one key
// is replaced (the old one stops working within the authorizer's cache time), the other keeps
// working, so clients switch without a gap.
func (h *Subscriptions) HandleRegenerate(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	c, err := h.admin(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	which := r.PathParams["which"]
	if which != marketplace.PrimaryKey && which != marketplace.SecondaryKey {
		return apigw.Response{}, problem.Field("which", "the key is primary or secondary.")
	}
	sub, err := h.approved(ctx, c, r.PathParams["api"])
	if err != nil {
		return apigw.Response{}, err
	}
	now := h.Now().UTC()
	k, raw, err := identity.NewSubscriptionKey(sub.EntityID, sub.API, h.Stage, "", now)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "make a key")
	}
	if _, err := h.Plan.Register(ctx, "cpu-"+h.Stage+"-"+sub.EntityID+"-"+sub.API+"-"+which, identity.UsageIdentifier(raw)); err != nil {
		return apigw.Response{}, problem.Wrap(err, "register the key with the usage plan")
	}
	sealed, err := h.Box.Seal(ctx, []byte(raw), sub.ID())
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "seal the key")
	}
	next := sub
	keys := *sub.Keys
	old := keys.PrimaryHash
	if which == marketplace.PrimaryKey {
		keys.Primary, keys.PrimaryHash, keys.PrimaryPrefix = sealed, k.Hash, k.Prefix
	} else {
		old = keys.SecondaryHash
		keys.Secondary, keys.SecondaryHash, keys.SecondaryPrefix = sealed, k.Hash, k.Prefix
	}
	next.Keys = &keys
	switch err := h.Store.SaveSubscription(ctx, next, sub.Version, []identity.SubscriptionKey{k}, []string{old}); {
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, problem.New(problem.KindConflict, "the subscription changed meanwhile; read it again")
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "store the key")
	}
	out, err := h.keysOf(ctx, next)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, out)
}

// HandleCancel serves POST /onboarding/v1/subscriptions/{api}/cancel: both keys are revoked.
func (h *Subscriptions) HandleCancel(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	c, err := h.admin(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	if _, ok := marketplace.Lookup(r.PathParams["api"]); !ok {
		return apigw.Response{}, problem.Field("api", "'api' must be one of the marketplace's APIs (GET /onboarding/v1/apis).")
	}
	sub, err := h.Store.Subscription(ctx, c.EntityID, r.PathParams["api"])
	switch {
	case errors.Is(err, people.ErrNotFound):
		return apigw.Response{}, problem.New(problem.KindUnauthorized, "the company has no such subscription")
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "read the subscription")
	case !sub.Open():
		return apigw.Response{}, problem.New(problem.KindConflict, "the subscription is %s already", sub.Status)
	}
	next := sub
	now := h.Now().UTC()
	next.Status, next.DecidedBy, next.DecidedAt, next.Keys = marketplace.Cancelled, c.UserID, &now, nil
	var revoke []string
	if sub.Keys != nil {
		revoke = []string{sub.Keys.PrimaryHash, sub.Keys.SecondaryHash}
	}
	switch err := h.Store.SaveSubscription(ctx, next, sub.Version, nil, revoke); {
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, problem.New(problem.KindConflict, "the subscription changed meanwhile; read it again")
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "cancel the subscription")
	}
	return apigw.JSON(http.StatusOK, view(next))
}

// HandleDecide serves POST /onboarding/v1/subscriptions/{api}/decisions/{entityId} (asset
// managers): approve (the keys are made) or reject with a reason; the company's admins are
// e-mailed.
func (h *Subscriptions) HandleDecide(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	c, err := h.Sessions.Require(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	if !c.Has(people.AssetManager) {
		return apigw.Response{}, problem.New(problem.KindUnauthorized, "only an asset manager decides on subscriptions")
	}
	req, err := decodeDecision(r.Body)
	if err != nil {
		return apigw.Response{}, err
	}
	if _, ok := marketplace.Lookup(r.PathParams["api"]); !ok || !entityIDPattern.MatchString(r.PathParams["entityId"]) {
		return apigw.Response{}, problem.Field("entityId", "the path names a marketplace API and an entity id (NXT and 9 to 12 digits).")
	}
	sub, err := h.Store.Subscription(ctx, r.PathParams["entityId"], r.PathParams["api"])
	switch {
	case errors.Is(err, people.ErrNotFound):
		return apigw.Response{}, problem.New(problem.KindConflict, "no such subscription")
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "read the subscription")
	case sub.Status != marketplace.Pending:
		return apigw.Response{}, problem.New(problem.KindConflict, "the subscription is %s, not PendingApproval", sub.Status)
	}
	now := h.Now().UTC()
	next := sub
	next.DecidedBy, next.DecidedAt, next.Reason, next.Status = c.UserID, &now, req.Reason, marketplace.Rejected
	var add []identity.SubscriptionKey
	if req.Decision == "Approve" {
		next.Status = marketplace.Approved
		if add, err = h.issueKeys(ctx, &next, now); err != nil {
			return apigw.Response{}, err
		}
	}
	switch err := h.Store.SaveSubscription(ctx, next, sub.Version, add, nil); {
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, problem.New(problem.KindConflict, "another asset manager decided meanwhile")
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "store the decision")
	}
	admins, err := h.Store.PeopleOf(ctx, sub.EntityID)
	if err == nil {
		for _, p := range admins {
			if p.ActiveAdmin() {
				text := fmt.Sprintf("Your subscription to %s in %s is %s.", sub.API, sub.Environment, strings.ToLower(next.Status))
				if next.Reason != "" {
					text += " Reason: " + next.Reason
				}
				if _, err := h.Mail.Send(ctx, mail.Compose(p.Email, "Subscription "+strings.ToLower(next.Status), "Dear "+p.FirstName+",", []string{text}, "Open the console", h.ConsoleURL)); err != nil {
					h.Log.ErrorContext(ctx, "decision e-mail not sent", "error", err.Error())
				}
			}
		}
	}
	return apigw.JSON(http.StatusOK, view(next))
}
