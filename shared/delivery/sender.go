// Package delivery pushes stored notifications to the entities' channels (contract §9): the
// dispatcher turns new notifications on the table's stream into delivery jobs, the deliverer makes
// the attempts (signed, paced, judged), the retrier holds a failed attempt's next try until its
// time, and the replayer turns a replay request into jobs. Every step works from what is stored or
// queued, so a function that dies midway loses nothing: its input comes back.
package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portcommunity/cpu/shared/egress"
	"github.com/portcommunity/cpu/shared/secretbox"
	"github.com/portcommunity/cpu/shared/webhook"
)

// Sender makes one attempt: it signs the body with the channel's active keys, adds the channel's
// headers and, for the OAuth2 types, a bearer token it fetches and caches, and POSTs through the
// egress client (address rules on the dialled address, no redirects, no proxy, 15 s).
type Sender struct {
	HTTP    *http.Client
	Secrets secretbox.Box
	// Tokens keeps the bearer token a deliverer fetched on the channel, for every other one.
	Tokens TokenStore
	Now    func() time.Time

	mu     sync.Mutex
	keys   map[string][][]byte // channel id + version → opened signing keys
	opened map[string]string   // sealed token → token (one KMS Decrypt per token and instance)
}

// TokenStore keeps a channel's current bearer token, sealed.
type TokenStore interface {
	SaveToken(ctx context.Context, entity, id string, version int, sealed []byte, expires time.Time) error
}

// Result of an attempt.
type Result struct {
	Status     int // 0 when no answer came
	Err        string
	Duration   time.Duration
	RetryAfter time.Duration
}

// Send POSTs body to the channel as webhook id. A token it fetches is set on ch, so the channel's
// next jobs in the batch use it too.
func (s *Sender) Send(ctx context.Context, ch *webhook.Channel, webhookID string, body []byte) Result {
	ctx, cancel := context.WithTimeout(ctx, AttemptBudget)
	defer cancel()
	start := s.Now()
	res := s.send(ctx, ch, webhookID, body, false)
	if res.Status == http.StatusUnauthorized && ch.Auth.OAuth() {
		// The receiver refused the cached token: fetch a new one and send the same attempt once more.
		res = s.send(ctx, ch, webhookID, body, true)
	}
	res.Duration = s.Now().Sub(start)
	return res
}

func (s *Sender) send(ctx context.Context, ch *webhook.Channel, webhookID string, body []byte, freshToken bool) Result {
	keys, err := s.signingKeys(ctx, *ch)
	if err != nil {
		return Result{Err: "signing keys: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err.Error()}
	}
	for k, v := range ch.Headers {
		req.Header.Set(k, v)
	}
	now := s.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cpu-webhooks/1")
	req.Header.Set("webhook-id", webhookID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", webhook.Sign(keys, webhookID, now.Unix(), body))
	if ch.Auth.OAuth() {
		tok, err := s.token(ctx, ch, freshToken)
		if err != nil {
			return Result{Err: "token endpoint: " + err.Error()}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return Result{Err: describe(err)}
	}
	defer resp.Body.Close()
	// Read a little of the answer so the connection can be reused, never more (an endless body
	// cannot hold the attempt).
	_, _, _ = egress.ReadLimited(resp.Body)
	return Result{Status: resp.StatusCode, RetryAfter: webhook.RetryAfter(resp.Header.Get("Retry-After"), now)}
}

// describe says what went wrong without echoing anything a receiver could fill with secrets.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "Client.Timeout") || strings.Contains(msg, "timeout") {
		return "timeout: no answer within " + webhook.Timeout.String()
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

func cacheKey(ch webhook.Channel) string { return ch.ID + "#" + strconv.Itoa(ch.Version) }

func (s *Sender) signingKeys(ctx context.Context, ch webhook.Channel) ([][]byte, error) {
	now := s.Now()
	active := ch.ActiveKeys(now)
	k := cacheKey(ch) + "#" + strconv.Itoa(len(active))
	s.mu.Lock()
	cached, ok := s.keys[k]
	s.mu.Unlock()
	if ok {
		return cached, nil
	}
	keys := make([][]byte, 0, len(active))
	for _, sk := range active {
		secret, err := s.Secrets.Open(ctx, sk.Sealed, ch.ID)
		if err != nil {
			return nil, err
		}
		raw, err := webhook.DecodeSecret(string(secret))
		if err != nil {
			return nil, err
		}
		keys = append(keys, raw)
	}
	s.mu.Lock()
	if s.keys == nil || len(s.keys) > 1000 {
		s.keys = map[string][][]byte{}
	}
	s.keys[k] = keys
	s.mu.Unlock()
	return keys, nil
}

// token returns the channel's current bearer token, or fetches one (RFC 6749 §4.4 or §4.3, client
// authentication with HTTP Basic, §2.3.1) and keeps it on the channel for every deliverer.
func (s *Sender) token(ctx context.Context, ch *webhook.Channel, fresh bool) (string, error) {
	now := s.Now()
	if !fresh && ch.TokenExpires != nil && now.Before(*ch.TokenExpires) && len(ch.SealedToken) > 0 {
		if tok, err := s.openToken(ctx, ch); err == nil {
			return tok, nil
		}
	}
	secret, err := s.Secrets.Open(ctx, ch.SealedClientSecret, ch.ID)
	if err != nil {
		return "", err
	}
	form := url.Values{}
	if ch.Auth.Type == webhook.AuthPassword {
		password, err := s.Secrets.Open(ctx, ch.SealedPassword, ch.ID)
		if err != nil {
			return "", err
		}
		form.Set("grant_type", "password")
		form.Set("username", ch.Auth.Username)
		form.Set("password", string(password))
	} else {
		form.Set("grant_type", "client_credentials")
	}
	if ch.Auth.Scopes != "" {
		form.Set("scope", ch.Auth.Scopes)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.Auth.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	for h, v := range ch.Auth.AuthHeaders {
		req.Header.Set(h, v)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(ch.Auth.ClientID), url.QueryEscape(string(secret)))
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return "", errors.New(describe(err))
	}
	defer resp.Body.Close()
	raw, truncated, err := egress.ReadUpTo(resp.Body, egress.MaxTokenResponseBytes)
	if err != nil {
		return "", err
	}
	if truncated {
		return "", fmt.Errorf("the answer is larger than %d bytes", egress.MaxTokenResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("answered %d", resp.StatusCode)
	}
	var answer struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil || answer.AccessToken == "" {
		return "", errors.New("the answer holds no access_token")
	}
	// Kept until shortly before it expires (a minute, or a tenth of a short lifetime); a token
	// without expires_in is kept five minutes.
	life := 5 * time.Minute
	if answer.ExpiresIn > 0 {
		life = time.Duration(answer.ExpiresIn) * time.Second
		life -= min(time.Minute, life/10)
	}
	expires := now.Add(life)
	sealed, err := s.Secrets.Seal(ctx, []byte(answer.AccessToken), ch.ID)
	if err != nil {
		return "", err
	}
	ch.SealedToken, ch.TokenExpires = sealed, &expires
	s.remember(sealed, answer.AccessToken)
	if s.Tokens != nil {
		// Kept for the others; if it cannot be, each deliverer fetches its own until it can.
		_ = s.Tokens.SaveToken(ctx, ch.EntityID, ch.ID, ch.Version, sealed, expires)
	}
	return answer.AccessToken, nil
}

func (s *Sender) openToken(ctx context.Context, ch *webhook.Channel) (string, error) {
	s.mu.Lock()
	tok, ok := s.opened[string(ch.SealedToken)]
	s.mu.Unlock()
	if ok {
		return tok, nil
	}
	raw, err := s.Secrets.Open(ctx, ch.SealedToken, ch.ID)
	if err != nil {
		return "", err
	}
	s.remember(ch.SealedToken, string(raw))
	return string(raw), nil
}

func (s *Sender) remember(sealed []byte, tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opened == nil || len(s.opened) > 1000 {
		s.opened = map[string]string{}
	}
	s.opened[string(sealed)] = tok
}
