package onboarding

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/mail"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/signin"
	"github.com/portcommunity/cpu/shared/store"
)

// PeopleStore is the storage port of an entity's people (shared/store implements it).
type PeopleStore interface {
	PeopleOf(ctx context.Context, entityID string) ([]people.Person, error)
	Person(ctx context.Context, userID string) (people.Person, error)
	CreatePerson(ctx context.Context, p people.Person) error
	ChangePerson(ctx context.Context, before, after people.Person) error
	PutPasswordToken(ctx context.Context, tokenHash, userID string, expires time.Time) error
	PasswordTokenOwner(ctx context.Context, tokenHash string, now time.Time) (string, error)
	ActivateWithToken(ctx context.Context, before, after people.Person, tokenHash string, now time.Time) error
}

// People serves an entity's admins managing its people (contract §11): invite users and admins,
// block and unblock them, change their roles; the last admin stays. A person of another entity is
// answered as unknown: nothing about other entities is disclosed.
type People struct {
	Store      PeopleStore
	Mail       mail.Sender
	Sessions   signin.Sessions
	ConsoleURL string
	Now        func() time.Time
	Log        *slog.Logger
}

// InviteValidity is how long a person's set-password link works.
const InviteValidity = 7 * 24 * time.Hour

func (h *People) admin(ctx context.Context, r *apigw.Request) (signin.Caller, error) {
	c, err := h.Sessions.Require(ctx, r)
	if err != nil {
		return c, err
	}
	if c.Role != people.Admin {
		return c, problem.New(problem.KindUnauthorized, "only an admin of the company manages its people")
	}
	return c, nil
}

// HandleList serves GET /onboarding/v1/people: the caller's company's people.
func (h *People) HandleList(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	c, err := h.admin(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	ps, err := h.Store.PeopleOf(ctx, c.EntityID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "list people")
	}
	if ps == nil {
		ps = []people.Person{}
	}
	return apigw.JSON(http.StatusOK, ps)
}

type inviteRequest struct {
	Email     string      `json:"email"`
	FirstName string      `json:"firstName"`
	LastName  string      `json:"lastName"`
	Role      people.Role `json:"role"`
}

// HandleInvite serves POST /onboarding/v1/people: a new user or admin of the caller's company,
// Invited until it sets its password from the e-mailed link.
func (h *People) HandleInvite(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	c, err := h.admin(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var req inviteRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	email := people.FoldEmail(req.Email)
	var v problem.Validation
	if !people.ValidEmail(email) {
		v.Add("email", "'email' must be an e-mail address of at most %d characters.", people.MaxEmailChars)
	}
	if !people.ValidName(req.FirstName) || !people.ValidName(req.LastName) {
		v.Add("firstName", "'firstName' and 'lastName' must be 1 to %d characters.", people.MaxNameChars)
	}
	if req.Role != people.Admin && req.Role != people.User {
		v.Add("role", "'role' must be Admin or User.")
	}
	if err := v.Err(); err != nil {
		return apigw.Response{}, err
	}
	now := h.Now().UTC()
	p := people.Person{UserID: uuid.NewString(), Email: email, FirstName: strings.TrimSpace(req.FirstName), LastName: strings.TrimSpace(req.LastName),
		EntityID: c.EntityID, Role: req.Role, Status: people.Invited, CreatedAt: now}
	err = h.Store.CreatePerson(ctx, p)
	var dup *store.ErrDuplicate
	switch {
	case errors.As(err, &dup):
		return apigw.Response{}, &problem.Error{Kind: problem.KindConflict, Detail: "This e-mail address has an account already.",
			Fields: map[string][]string{"email": {"the address has an account already"}}}
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "create the person")
	}
	token := people.NewToken()
	if err := h.Store.PutPasswordToken(ctx, people.TokenHash(token), p.UserID, now.Add(InviteValidity)); err != nil {
		return apigw.Response{}, problem.Wrap(err, "store the link")
	}
	link := strings.TrimRight(h.ConsoleURL, "/") + "/#/set-password?" + url.Values{"user": {p.UserID}, "token": {token}}.Encode()
	msg := mail.Compose(email, "Your account on the Certified Pick-up console", "Dear "+p.FirstName+",",
		[]string{"An administrator of your company created an account for you (" + string(p.Role) + "). Choose your password to start; the link is valid for 7 days and works once."},
		"Choose your password", link)
	if _, err := h.Mail.Send(ctx, msg); err != nil {
		return apigw.Response{}, problem.Wrap(err, "send the invitation")
	}
	return apigw.JSON(http.StatusCreated, p)
}

type setPasswordRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

var errPasswordLink = problem.Field("token", "the link is not valid: unknown, used or expired; ask your administrator for a new one.")

// HandleSetPassword serves POST /onboarding/v1/people/{userId}/password: an invited person sets its
// password from the e-mailed link and becomes Active.
func (h *People) HandleSetPassword(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var req setPasswordRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	if _, err := uuid.Parse(r.PathParams["userId"]); err != nil || len(req.Token) > 100 {
		return apigw.Response{}, errPasswordLink
	}
	now := h.Now().UTC()
	// The link first: nothing about the person is judged for a caller without its token.
	hash := people.TokenHash(req.Token)
	owner, err := h.Store.PasswordTokenOwner(ctx, hash, now)
	switch {
	case errors.Is(err, people.ErrNotFound):
		return apigw.Response{}, errPasswordLink
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "read the link")
	case owner != r.PathParams["userId"]:
		return apigw.Response{}, errPasswordLink
	}
	p, err := h.Store.Person(ctx, owner)
	switch {
	case errors.Is(err, people.ErrNotFound):
		return apigw.Response{}, errPasswordLink
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "read the person")
	case p.Status != people.Invited:
		return apigw.Response{}, errPasswordLink
	}
	if err := people.CheckPassword(req.Password, p.Email); err != nil {
		return apigw.Response{}, problem.Field("password", "%s.", err.Error())
	}
	pwHash, err := people.HashPassword(req.Password)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "hash the password")
	}
	after := p
	after.Status, after.PasswordHash = people.Active, pwHash
	switch err := h.Store.ActivateWithToken(ctx, p, after, hash, now); {
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, errPasswordLink // spent meanwhile
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "activate the person")
	}
	return apigw.JSON(http.StatusOK, after)
}

type changeRequest struct {
	Role   people.Role   `json:"role,omitempty"`
	Status people.Status `json:"status,omitempty"`
}

// HandleChange serves POST /onboarding/v1/people/{userId}: an admin changes a person's role or
// blocks or unblocks it; the last active admin stays (409).
func (h *People) HandleChange(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	c, err := h.admin(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	var req changeRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	switch {
	case req.Role == "" && req.Status == "":
		return apigw.Response{}, problem.Field("role", "name a new 'role' (Admin, User) or 'status' (Active, Blocked).")
	case req.Role != "" && req.Role != people.Admin && req.Role != people.User:
		return apigw.Response{}, problem.Field("role", "'role' must be Admin or User.")
	case req.Status != "" && req.Status != people.Active && req.Status != people.Blocked:
		return apigw.Response{}, problem.Field("status", "'status' must be Active or Blocked.")
	}
	id := r.PathParams["userId"]
	if _, perr := uuid.Parse(id); perr != nil {
		return apigw.Response{}, problem.New(problem.KindUnauthorized, "no such person in your company")
	}
	p, err := h.Store.Person(ctx, id)
	if errors.Is(err, people.ErrNotFound) || (err == nil && p.EntityID != c.EntityID) {
		return apigw.Response{}, problem.New(problem.KindUnauthorized, "no such person in your company")
	}
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read the person")
	}
	after := p
	if req.Role != "" {
		after.Role = req.Role
	}
	if req.Status != "" {
		if p.Status == people.Invited {
			return apigw.Response{}, problem.New(problem.KindConflict, "the person has not set a password yet")
		}
		after.Status = req.Status
	}
	switch err := h.Store.ChangePerson(ctx, p, after); {
	case errors.Is(err, people.ErrLastAdmin):
		return apigw.Response{}, problem.New(problem.KindConflict, "the company's last active admin stays: make another person admin first")
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, problem.New(problem.KindConflict, "the person changed meanwhile; read it again")
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "change the person")
	}
	return apigw.JSON(http.StatusOK, after)
}
