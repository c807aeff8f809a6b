// Package signin serves the console's sign-in (contract §11): e-mail and password, then a 6-digit
// code sent by e-mail, answering a console session token (audience "console", one hour). It also
// verifies those tokens for the console's other endpoints (Sessions). The answers never tell
// whether an address is registered: a wrong password, an unknown address and a locked sign-in all
// answer the same 202, after the same work.
package signin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/mail"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/problem"
)

// Store is the sign-in's storage port (shared/store implements it).
type Store interface {
	PersonByEmail(ctx context.Context, email string) (people.Person, error)
	Person(ctx context.Context, userID string) (people.Person, error)
	SignInGuard(ctx context.Context, emailHash string) (people.Guard, int, error)
	PutSignInGuard(ctx context.Context, emailHash string, g people.Guard, read int) error
	PutChallenge(ctx context.Context, c people.Challenge) error
	Challenge(ctx context.Context, id string) (people.Challenge, error)
	SpendChallenge(ctx context.Context, c people.Challenge, used bool) error
}

// Service signs people in.
type Service struct {
	Store  Store
	Mail   mail.Sender
	Signer identity.Signer
	Stage  string
	// ConsoleURL is where e-mails point people.
	ConsoleURL string
	Now        func() time.Time
	Log        *slog.Logger
}

// Started is the answer to a sign-in's first step, the same for every address.
type Started struct {
	ChallengeID      string `json:"challengeId"`
	ExpiresInSeconds int    `json:"expiresInSeconds"`
}

// Session is the answer to the second step.
type Session struct {
	AccessToken string `json:"accessToken"`
	TokenType   string `json:"tokenType"`
	ExpiresIn   int    `json:"expiresIn"`
	UserID      string `json:"userId"`
	EntityID    string `json:"entityId"`
}

type startRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// HandleStart serves POST /onboarding/v1/sign-in.
func (s *Service) HandleStart(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var req startRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	email := people.FoldEmail(req.Email)
	var v problem.Validation
	if !people.ValidEmail(email) {
		v.Add("email", "'email' must be an e-mail address of at most %d characters.", people.MaxEmailChars)
	}
	if n := len([]rune(req.Password)); n == 0 || n > people.MaxPasswordChars {
		v.Add("password", "'password' must be 1 to %d characters.", people.MaxPasswordChars)
	}
	if err := v.Err(); err != nil {
		return apigw.Response{}, err
	}
	started, err := s.Start(ctx, email, req.Password)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "sign in")
	}
	return apigw.JSON(http.StatusAccepted, started)
}

// Start checks the password and, when it is right and the sign-in not locked, e-mails a code. The
// answer is the same in every case; the work too (the guard read, a password hash verified, a
// challenge written), but for the e-mail that only the address's owner sees.
func (s *Service) Start(ctx context.Context, email, password string) (Started, error) {
	now := s.Now().UTC()
	emailHash := people.TokenHash(email)
	guard, version, err := s.Store.SignInGuard(ctx, emailHash)
	if err != nil {
		return Started{}, err
	}
	p, err := s.Store.PersonByEmail(ctx, email)
	switch {
	case errors.Is(err, people.ErrNotFound):
		p = people.Person{}
	case err != nil:
		return Started{}, err
	}
	locked := guard.Locked(now)
	right := people.VerifyPassword(password, p.PasswordHash) && p.Status == people.Active && !locked
	c := people.Challenge{ID: uuid.NewString(), Expires: now.Add(people.CodeValidity), EmailHash: emailHash}
	// Every challenge gets a code hash, so that the items look alike; only a right password's is
	// the hash of a code that was sent.
	code := people.NewCode()
	c.CodeHash = people.CodeHashFor(c.ID, code)
	if right {
		c.UserID = p.UserID
	}
	if err := s.Store.PutChallenge(ctx, c); err != nil {
		return Started{}, err
	}
	switch {
	case right:
		if _, err := s.Mail.Send(ctx, codeMail(p, code, s.ConsoleURL)); err != nil {
			return Started{}, err
		}
	case !locked:
		justLocked, err := s.fail(ctx, emailHash, guard, version, now)
		if err != nil {
			return Started{}, err
		}
		if justLocked && p.UserID != "" {
			s.Log.WarnContext(ctx, "sign-in locked after repeated wrong passwords", "userId", p.UserID)
			if _, err := s.Mail.Send(ctx, lockedMail(p, s.ConsoleURL)); err != nil {
				s.Log.ErrorContext(ctx, "lock-out e-mail not sent", "error", err.Error())
			}
		}
	}
	return Started{ChallengeID: c.ID, ExpiresInSeconds: int(people.CodeValidity.Seconds())}, nil
}

// fail counts a failure on an address's guard. Parallel failures each count: a write that lost to
// another is read and counted again (a burst of wrong passwords is five failures, not one).
func (s *Service) fail(ctx context.Context, emailHash string, guard people.Guard, version int, now time.Time) (bool, error) {
	for attempt := 0; attempt < 8; attempt++ {
		locked := guard.Fail(now)
		err := s.Store.PutSignInGuard(ctx, emailHash, guard, version)
		if err == nil {
			return locked, nil
		}
		if !errors.Is(err, people.ErrStale) {
			return false, err
		}
		if guard, version, err = s.Store.SignInGuard(ctx, emailHash); err != nil {
			return false, err
		}
		if guard.Locked(now) {
			return false, nil
		}
	}
	return false, errors.New("the sign-in guard kept changing")
}

type codeRequest struct {
	Code string `json:"code"`
}

// ErrBadCode is the one answer to a wrong, used, expired or unknown code.
var errBadCode = problem.New(problem.KindUnauthorized, "the code is wrong, used or expired; sign in again for a new one")

// HandleCode serves POST /onboarding/v1/sign-in/{challengeId}: the code answers a session token.
func (s *Service) HandleCode(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var req codeRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	if len(req.Code) != 6 || strings.Trim(req.Code, "0123456789") != "" {
		return apigw.Response{}, problem.Field("code", "'code' must be the 6 digits of the e-mail.")
	}
	id := r.PathParams["challengeId"]
	if _, err := uuid.Parse(id); err != nil {
		return apigw.Response{}, errBadCode
	}
	now := s.Now().UTC()
	c, err := s.Store.Challenge(ctx, id)
	switch {
	case errors.Is(err, people.ErrNotFound):
		return apigw.Response{}, errBadCode
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "read the challenge")
	}
	ok := c.Matches(req.Code, now)
	if c.Used || c.Attempts >= people.MaxCodeAttempts || !now.Before(c.Expires) {
		return apigw.Response{}, errBadCode
	}
	switch err := s.Store.SpendChallenge(ctx, c, ok); {
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, errBadCode // another attempt at the same challenge came first
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "spend the challenge")
	}
	if !ok {
		// A wrong code counts towards the address's lock-out, as a wrong password does: knowing the
		// password does not buy unlimited guesses at codes.
		if c.EmailHash != "" {
			guard, version, err := s.Store.SignInGuard(ctx, c.EmailHash)
			if err == nil && !guard.Locked(now) {
				_, err = s.fail(ctx, c.EmailHash, guard, version, now)
			}
			if err != nil {
				return apigw.Response{}, problem.Wrap(err, "count the failure")
			}
		}
		return apigw.Response{}, errBadCode
	}
	if guard, _, err := s.Store.SignInGuard(ctx, c.EmailHash); err != nil {
		return apigw.Response{}, problem.Wrap(err, "read the guard")
	} else if guard.Locked(now) {
		return apigw.Response{}, errBadCode
	}
	p, err := s.Store.Person(ctx, c.UserID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read the person")
	}
	if p.Status != people.Active {
		return apigw.Response{}, errBadCode
	}
	tok, err := identity.IssueTokenFor(ctx, s.Signer, s.Stage, people.ConsoleAudience,
		identity.Caller{ClientID: p.UserID, EntityID: p.EntityID, Roles: append([]string{string(p.Role)}, p.Platform...)}, now, people.ConsoleTokenTTL)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "sign the session")
	}
	return apigw.JSON(http.StatusOK, Session{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(people.ConsoleTokenTTL.Seconds()), UserID: p.UserID, EntityID: p.EntityID})
}

func codeMail(p people.Person, code, console string) mail.Message {
	// The code is in the body only: subjects show on lock screens and in mail logs.
	return mail.Compose(p.Email, "Your sign-in code", "Dear "+p.FirstName+",",
		[]string{"Your code to sign in to the Certified Pick-up console is " + code + ". It is valid for 10 minutes and works once.",
			"If you did not try to sign in, someone knows your password: change it, and tell your administrator."}, "Open the console", console)
}

func lockedMail(p people.Person, console string) mail.Message {
	return mail.Compose(p.Email, "Sign-in locked for 15 minutes", "Dear "+p.FirstName+",",
		[]string{"Five wrong passwords were given for your address within 15 minutes, so signing in is locked for 15 minutes.",
			"If that was not you, tell your administrator."}, "Open the console", console)
}

// Sessions verifies console session tokens for the console's endpoints.
type Sessions struct {
	Verifier *identity.Verifier // for the audience "console"
	// People is read on every request: a person blocked, demoted or moved since the token was
	// issued acts as it is now, not as the token says.
	People interface {
		Person(ctx context.Context, userID string) (people.Person, error)
	}
}

// Caller is the person a session speaks for.
type Caller struct {
	UserID   string
	EntityID string
	Role     people.Role
	Platform []string
}

// Has tells whether the caller holds a platform role.
func (c Caller) Has(platformRole string) bool {
	for _, r := range c.Platform {
		if r == platformRole {
			return true
		}
	}
	return false
}

// Require answers the caller of a request's console session, or a 401: a valid token of a person
// who is still Active, with the person's current role, entity and platform roles (one consistent
// read; a blocked admin's token stops working at once).
func (s Sessions) Require(ctx context.Context, r *apigw.Request) (Caller, error) {
	raw, ok := identity.BearerToken(r.Header("Authorization"))
	if !ok {
		return Caller{}, problem.New(problem.KindUnauthorized, "sign in to the console first")
	}
	c, err := s.Verifier.Verify(raw)
	if err != nil || len(c.Roles) == 0 {
		return Caller{}, problem.New(problem.KindUnauthorized, "the console session is not valid; sign in again")
	}
	p, err := s.People.Person(ctx, c.ClientID)
	switch {
	case errors.Is(err, people.ErrNotFound):
		return Caller{}, problem.New(problem.KindUnauthorized, "the console session is not valid; sign in again")
	case err != nil:
		return Caller{}, problem.Wrap(err, "read the person")
	case p.Status != people.Active || p.EntityID != c.EntityID:
		return Caller{}, problem.New(problem.KindUnauthorized, "the console session is not valid any more; sign in again")
	}
	return Caller{UserID: p.UserID, EntityID: p.EntityID, Role: p.Role, Platform: p.Platform}, nil
}
