// Package channels serves the notification-channel endpoints of contract §9: an entity manages
// its own channels (another entity's channel id answers 404, as no channel would), tests them,
// rotates their signing secret, reads their delivery log and replays stored notifications.
// Secrets are write-only: sealed before they are stored, never answered after creation.
package channels

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/delivery"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/secretbox"
	"github.com/portcommunity/cpu/shared/store"
	"github.com/portcommunity/cpu/shared/webhook"
)

// Store is the channels' storage port.
type Store interface {
	CreateChannel(ctx context.Context, c webhook.Channel) error
	Channels(ctx context.Context, entity string) ([]webhook.Channel, error)
	Channel(ctx context.Context, entity, id string) (webhook.Channel, error)
	ReplaceChannel(ctx context.Context, c webhook.Channel, readVersion int, clearDelivery bool) error
	DeleteChannel(ctx context.Context, entity, id string) error
	Attempts(ctx context.Context, q webhook.LogQuery) (webhook.LogPage, error)
	AppendAttempts(ctx context.Context, as []webhook.Attempt) error
}

// API holds what the channel endpoints share; each endpoint's function serves one of its methods.
type API struct {
	Store    Store
	Secrets  secretbox.Box
	CheckURL webhook.URLCheck
	Sender   *delivery.Sender // POST …/test
	Replays  delivery.Replays // POST …/replay
	Now      func() time.Time
}

// TestBudget bounds POST …/test's attempt (token fetch included): the answer must come inside
// API Gateway's 29 seconds.
const TestBudget = 25 * time.Second

// RotationWindow is how long the previous signing secret keeps signing after a rotation.
const RotationWindow = 24 * time.Hour

// created is the 201 of a create: the channel and, this once, its signing secret.
type created struct {
	webhook.View
	SigningSecret string `json:"signingSecret"`
}

// Create serves POST /certified-pickup/v1/notification-channels.
func (a *API) Create(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := apigw.RequireCaller(r)
	if err != nil {
		return apigw.Response{}, err
	}
	var req webhook.Request
	if err := decode(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	checked, err := webhook.Check(ctx, req, a.CheckURL, nil)
	if err != nil {
		return apigw.Response{}, err
	}
	now := a.Now().UTC()
	ch := webhook.Channel{ID: uuid.NewString(), EntityID: caller.EntityID, CreatedOn: now, Version: 1}
	if err := a.apply(ctx, &ch, checked, now); err != nil {
		return apigw.Response{}, err
	}
	secret, _, err := webhook.NewSigningSecret()
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "signing secret")
	}
	sealed, err := a.Secrets.Seal(ctx, []byte(secret), ch.ID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "seal the signing secret")
	}
	ch.SigningKeys = []webhook.SigningKey{{Sealed: sealed, CreatedOn: now}}
	switch err := a.Store.CreateChannel(ctx, ch); {
	case errors.Is(err, store.ErrChannelLimit):
		return apigw.Response{}, problem.Field("channels", "An entity may have at most %d notification channels; delete one before creating another.", webhook.MaxChannels)
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "store the channel")
	}
	return apigw.JSON(http.StatusCreated, created{View: webhook.ViewOf(ch), SigningSecret: secret})
}

// apply sets a checked request on a channel, sealing the secrets it carries.
func (a *API) apply(ctx context.Context, ch *webhook.Channel, c webhook.Checked, now time.Time) error {
	ch.Name, ch.URL, ch.Headers, ch.Auth, ch.Filter = c.Name, c.URL, c.Headers, c.Auth, c.Filter
	switch {
	case c.Enabled && (!ch.Enabled || ch.Status != webhook.StatusActive):
		// Enabled again (or new): deliveries resume from now; replay brings back what was missed.
		ch.Enabled, ch.Status, ch.DisabledReason, ch.DisabledSince = true, webhook.StatusActive, "", nil
	case !c.Enabled && (ch.Enabled || ch.Status == ""):
		ch.Enabled, ch.Status, ch.DisabledReason, ch.DisabledSince = false, webhook.StatusDisabled, "disabled by its owner", &now
	}
	if !ch.Auth.OAuth() {
		ch.SealedClientSecret, ch.SealedPassword = nil, nil
	}
	if ch.Auth.Type != webhook.AuthPassword {
		ch.SealedPassword = nil
	}
	seal := func(v *string, into *[]byte) error {
		if v == nil {
			return nil
		}
		s, err := a.Secrets.Seal(ctx, []byte(*v), ch.ID)
		if err != nil {
			return problem.Wrap(err, "seal a secret")
		}
		*into = s
		return nil
	}
	if err := seal(c.ClientSecret, &ch.SealedClientSecret); err != nil {
		return err
	}
	return seal(c.Password, &ch.SealedPassword)
}

// List serves GET …/notification-channels: the caller's channels, a plain array.
func (a *API) List(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := apigw.RequireCaller(r)
	if err != nil {
		return apigw.Response{}, err
	}
	chs, err := a.Store.Channels(ctx, caller.EntityID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "list channels")
	}
	views := make([]webhook.View, 0, len(chs))
	for _, c := range chs {
		views = append(views, webhook.ViewOf(c))
	}
	return apigw.JSON(http.StatusOK, views)
}

// Get serves GET …/notification-channels/{channelId}.
func (a *API) Get(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	ch, err := a.channel(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, webhook.ViewOf(ch))
}

// Replace serves PUT …/notification-channels/{channelId}: the channel as sent; write-only
// secrets left out keep their stored values.
func (a *API) Replace(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	ch, err := a.channel(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var req webhook.Request
	if err := decode(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	// Stored secrets carry over only to the same token endpoint, client and user: otherwise a PUT
	// could send them somewhere else without knowing them.
	// Stored secrets and credential headers carry over only to the same url, token endpoint,
	// client and user: otherwise a PUT could send them elsewhere without knowing them (a token
	// minted from the stored secret goes to the url).
	stored := ch
	sameReceiver := req.URL == ch.URL
	auth := webhook.AuthenticationReq{Type: string(webhook.AuthNone)}
	if req.Authentication != nil {
		auth = *req.Authentication
	}
	if auth.Type == "" {
		auth.Type = string(webhook.AuthNone)
	}
	sameAuth := strings.EqualFold(auth.Type, string(ch.Auth.Type)) && auth.TokenEndpoint == ch.Auth.TokenEndpoint &&
		auth.ClientID == ch.Auth.ClientID && auth.Username == ch.Auth.Username
	if !sameReceiver || !sameAuth {
		stored = webhook.Channel{}
	}
	if sameReceiver {
		stored.Headers = ch.Headers
	}
	checked, err := webhook.Check(ctx, req, a.CheckURL, &stored)
	if err != nil {
		return apigw.Response{}, err
	}
	read, wasDeliverable := ch.Version, ch.Deliverable()
	if err := a.apply(ctx, &ch, checked, a.Now().UTC()); err != nil {
		return apigw.Response{}, err
	}
	ch.Version++
	// A new receiver (url or authentication) gets a new token and a clean record, as does a
	// channel enabled again; a rename keeps the 72-hour clock running.
	fresh := !sameReceiver || !sameAuth || (!wasDeliverable && ch.Deliverable())
	if err := a.replace(ctx, ch, read, fresh); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, webhook.ViewOf(ch))
}

func (a *API) replace(ctx context.Context, ch webhook.Channel, read int, clearDelivery bool) error {
	switch err := a.Store.ReplaceChannel(ctx, ch, read, clearDelivery); {
	case errors.Is(err, webhook.ErrNotFound):
		return notFound()
	case errors.Is(err, store.ErrChannelChanged):
		return problem.New(problem.KindConflict, "The channel was changed by another request meanwhile; read it again and retry.")
	case err != nil:
		return problem.Wrap(err, "store the channel")
	}
	return nil
}

// Delete serves DELETE …/notification-channels/{channelId}: 204.
func (a *API) Delete(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, id, err := a.target(r)
	if err != nil {
		return apigw.Response{}, err
	}
	switch err := a.Store.DeleteChannel(ctx, caller.EntityID, id); {
	case errors.Is(err, webhook.ErrNotFound):
		return apigw.Response{}, notFound()
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "delete the channel")
	}
	return apigw.Response{Status: http.StatusNoContent, Headers: map[string]string{}}, nil
}

// testResult is the answer of POST …/test, whatever the receiver did.
type testResult struct {
	Delivered  bool    `json:"delivered"`
	Status     *int    `json:"status"`
	Error      *string `json:"error"`
	DurationMs int64   `json:"durationMs"`
}

// Test serves POST …/{channelId}/test: a Ping envelope delivered now, once, and the attempt's
// result (also in the delivery log). A disabled channel can be tested before it is enabled again.
func (a *API) Test(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	ch, err := a.channel(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	now := a.Now().UTC()
	// Inside API Gateway's 29 s, whatever the token endpoint and the receiver do.
	ctx, cancel := context.WithTimeout(ctx, TestBudget)
	defer cancel()
	ref, body := webhook.Ping(ch, now)
	id := webhook.WebhookID(ch.ID, ch.EntityID, "ping#"+ref)
	res := a.Sender.Send(ctx, &ch, id, body)
	out := testResult{Delivered: webhook.Judge(res.Status).Outcome == webhook.Delivered, DurationMs: res.Duration.Milliseconds()}
	attempt := webhook.Attempt{ChannelID: ch.ID, WebhookID: id, PublicReferenceID: ref, Attempt: 1, Time: now, DurationMs: out.DurationMs, Outcome: webhook.Failed}
	if res.Status != 0 {
		s := res.Status
		out.Status, attempt.Status = &s, &s
	}
	if res.Err != "" {
		e := res.Err
		out.Error, attempt.Error = &e, e
	}
	if out.Delivered {
		attempt.Outcome = webhook.Delivered
	}
	// The attempt may have used up its budget: the log is written whatever it did.
	if err := a.Store.AppendAttempts(context.WithoutCancel(ctx), []webhook.Attempt{attempt}); err != nil {
		return apigw.Response{}, problem.Wrap(err, "log the test")
	}
	return apigw.JSON(http.StatusOK, out)
}

// Rotate serves POST …/{channelId}/rotate-secret: a new signing secret, shown this once; the one it
// replaces signs beside it for 24 hours (two signatures, as §9 says). A rotation inside those 24
// hours drops the secret replaced before at once: at most two ever sign, and a secret that leaked
// can always be replaced at once.
func (a *API) Rotate(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	ch, err := a.channel(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	now := a.Now().UTC()
	secret, _, err := webhook.NewSigningSecret()
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "signing secret")
	}
	sealed, err := a.Secrets.Seal(ctx, []byte(secret), ch.ID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "seal the signing secret")
	}
	until := now.Add(RotationWindow)
	keys := []webhook.SigningKey{{Sealed: sealed, CreatedOn: now}}
	if len(ch.SigningKeys) > 0 {
		current := ch.SigningKeys[0]
		current.Until = &until
		keys = append(keys, current)
	}
	read := ch.Version
	ch.SigningKeys, ch.Version = keys, ch.Version+1
	if err := a.replace(ctx, ch, read, false); err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, map[string]string{"signingSecret": secret})
}

// Delivery log bounds: a page answers at most LogPageSize attempts and reads at most LogReadLimit
// (a rare outcome over 30 days of a busy channel answers a short page with a Link to go on).
const (
	LogPageSize  = 100
	LogReadLimit = 5000
	logToken     = "pageToken"
)

// Deliveries serves GET …/{channelId}/deliveries?status=&from=&to=&publicReferenceId=: the
// delivery log, newest first, a page at a time (Link rel="next", as E7).
func (a *API) Deliveries(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	ch, err := a.channel(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	now := a.Now().UTC()
	q := webhook.LogQuery{ChannelID: ch.ID, From: now.Add(-webhook.LogRetention), To: now.Add(time.Second), Limit: LogPageSize, MaxRead: LogReadLimit}
	var v problem.Validation
	for name, vals := range r.Query {
		val := vals[len(vals)-1]
		switch strings.ToLower(name) {
		case "status":
			o, ok := outcomeOf(val)
			if !ok {
				v.Add("status", "'status' must be one of Delivered, Retrying, Failed.")
			}
			q.Outcome = o
		case "from", "to":
			field := strings.ToLower(name)
			t, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				v.Add(field, "'%s' must be an RFC 3339 time, e.g. 2026-11-22T08:00:00Z.", field)
			} else if field == "from" {
				q.From = later(t, q.From)
			} else {
				q.To = t
			}
		case "publicreferenceid":
			if !guid.MatchString(val) {
				v.Add("publicReferenceId", "'publicReferenceId' must be a GUID.")
			}
			q.Ref = strings.ToLower(val)
		case strings.ToLower(logToken):
			raw, err := base64.RawURLEncoding.DecodeString(val)
			if err != nil || len(val) > 512 {
				v.Add(logToken, "'pageToken' is not a token this API gave; take it from the Link header of the previous page.")
			}
			q.Before = string(raw)
		}
		// Other parameters are ignored, as everywhere in the API.
	}
	if err := v.Err(); err != nil {
		return apigw.Response{}, err
	}
	page, err := a.Store.Attempts(ctx, q)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read the delivery log")
	}
	resp, err := apigw.JSON(http.StatusOK, page.Items)
	if err == nil && page.Next != "" {
		resp.Headers["Link"] = apigw.NextLink(r, logToken, page.Next)
	}
	return resp, err
}

func outcomeOf(s string) (string, bool) {
	for _, o := range []webhook.Outcome{webhook.Delivered, webhook.Retrying, webhook.Failed} {
		if strings.EqualFold(s, string(o)) {
			return string(o), true
		}
	}
	return "", false
}

// replayRequest is the body of POST …/replay: a time range or references, one form per call.
type replayRequest struct {
	From               *string  `json:"from"`
	To                 *string  `json:"to"`
	PublicReferenceIDs []string `json:"publicReferenceIds"`
}

// Replay serves POST …/{channelId}/replay: 202 once the replay is queued; the replayer queues a
// delivery of each stored notification it names (inside the 168 hours) behind the channel's others.
func (a *API) Replay(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	ch, err := a.channel(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var req replayRequest
	if err := decode(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	rp := webhook.Replay{ReplayID: uuid.NewString(), ChannelID: ch.ID, EntityID: ch.EntityID}
	var v problem.Validation
	byTime := req.From != nil || req.To != nil
	switch {
	case byTime && req.PublicReferenceIDs != nil:
		v.Add("publicReferenceIds", "Give either from and to or publicReferenceIds, not both.")
	case byTime:
		from, to := parseTime(&v, "from", req.From), parseTime(&v, "to", req.To)
		if from != nil && to != nil && !from.Before(*to) {
			v.Add("to", "'to' must be after 'from'.")
		}
		rp.From, rp.To = from, to
	case len(req.PublicReferenceIDs) == 0:
		v.Add("publicReferenceIds", "Give from and to, or 1 to %d publicReferenceIds.", webhook.MaxReplayReferences)
	case len(req.PublicReferenceIDs) > webhook.MaxReplayReferences:
		v.Add("publicReferenceIds", "'publicReferenceIds' must hold at most %d references; it holds %d.", webhook.MaxReplayReferences, len(req.PublicReferenceIDs))
	default:
		seen := map[string]bool{}
		for _, ref := range req.PublicReferenceIDs {
			if !guid.MatchString(ref) {
				v.Add("publicReferenceIds", "Every publicReferenceId must be a GUID.")
				break
			}
			if ref = strings.ToLower(ref); !seen[ref] {
				seen[ref] = true
				rp.PublicReferenceIDs = append(rp.PublicReferenceIDs, ref)
			}
		}
	}
	if err := v.Err(); err != nil {
		return apigw.Response{}, err
	}
	if !ch.Deliverable() {
		return apigw.Response{}, problem.New(problem.KindConflict, "The channel is disabled: enable it (PUT with enabled true) before replaying to it.")
	}
	if err := a.Replays.Request(ctx, rp); err != nil {
		return apigw.Response{}, problem.Wrap(err, "queue the replay")
	}
	return apigw.JSON(http.StatusAccepted, map[string]any{"publicReferenceId": rp.ReplayID, "externalReferenceId": r.ExternalRef})
}

func parseTime(v *problem.Validation, field string, s *string) *time.Time {
	if s == nil {
		v.Add(field, "'%s' is required with a time range.", field)
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		v.Add(field, "'%s' must be an RFC 3339 time, e.g. 2026-11-22T08:00:00Z.", field)
		return nil
	}
	t = t.UTC()
	return &t
}

// channel reads the caller's channel named by the path (404 for any other).
func (a *API) channel(ctx context.Context, r *apigw.Request) (webhook.Channel, error) {
	caller, id, err := a.target(r)
	if err != nil {
		return webhook.Channel{}, err
	}
	ch, err := a.Store.Channel(ctx, caller.EntityID, id)
	switch {
	case errors.Is(err, webhook.ErrNotFound):
		return ch, notFound()
	case err != nil:
		return ch, problem.Wrap(err, "read the channel")
	}
	return ch, nil
}

func (a *API) target(r *apigw.Request) (apigw.Caller, string, error) {
	caller, err := apigw.RequireCaller(r)
	if err != nil {
		return caller, "", err
	}
	id := r.PathParams["channelId"]
	if !guid.MatchString(id) {
		return caller, "", notFound()
	}
	return caller, strings.ToLower(id), nil
}

func notFound() error {
	return problem.New(problem.KindNotFound, "The caller has no notification channel with this id.")
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// decode reads a JSON body strictly: unknown fields and wrong types are 400 naming the field.
func decode(body []byte, into any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return problem.New(problem.KindBadRequest, "A JSON body is required.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return problem.Field(te.Field, "'%s' must be %s.", te.Field, te.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return problem.Field(name, "'%s' is not a field of this request.", name)
		default:
			return problem.New(problem.KindBadRequest, "The body is not valid JSON: %s", err.Error())
		}
	}
	if dec.More() {
		return problem.New(problem.KindBadRequest, "The body must hold one JSON object.")
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
