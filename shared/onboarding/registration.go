package onboarding

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/mail"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/signin"
	"github.com/portcommunity/cpu/shared/store"
)

// Registrations is the storage port of registration (shared/store implements it).
type Registrations interface {
	PutInvitation(ctx context.Context, inv people.Invitation) error
	Invitation(ctx context.Context, tokenHash string) (people.Invitation, error)
	StartRegistration(ctx context.Context, r people.Registration) error
	Registration(ctx context.Context, id string) (people.Registration, error)
	CompleteRegistration(ctx context.Context, r people.Registration, e entity.Entity, p people.Person, m people.Membership) error
	Membership(ctx context.Context, entityID string) (people.Membership, error)
	DecideMembership(ctx context.Context, m people.Membership) error
	Memberships(ctx context.Context, status string, limit int) ([]people.Membership, error)
	PeopleOf(ctx context.Context, entityID string) ([]people.Person, error)
	PersonByEmail(ctx context.Context, email string) (people.Person, error)
	Taken(ctx context.Context, vat, name string) (field, entityID string, err error)
}

// Registration serves contract §11's registration: invitations, registrations, the e-mail
// confirmation, the community administrator's decision and access requests.
type Registration struct {
	Store      Registrations
	Mail       mail.Sender
	Sessions   signin.Sessions
	ConsoleURL string
	Now        func() time.Time
	Log        *slog.Logger
}

// Community is the one community the platform serves today.
const Community = "CPu"

// registrable roles: terminal operators (whose terminal codes support sets) and authorities are
// onboarded by support.
var registrable = []entity.Role{entity.ShippingAgent, entity.ReleaseParty, entity.TransportOperator}

type invitationRequest struct {
	Email     string `json:"email,omitempty"`
	Community string `json:"community"`
}

// Invited is the answer to an invitation: the link (shown once; only its hash is kept).
type Invited struct {
	InvitationURL string    `json:"invitationUrl"`
	Expires       time.Time `json:"expires"`
}

// HandleInvite serves POST /onboarding/v1/invitations (community administrators).
func (h *Registration) HandleInvite(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := h.Sessions.Require(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	if !caller.Has(people.CommunityAdmin) {
		return apigw.Response{}, problem.New(problem.KindUnauthorized, "only a community administrator invites companies")
	}
	var req invitationRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	email := people.FoldEmail(req.Email)
	if email != "" && !people.ValidEmail(email) {
		return apigw.Response{}, problem.Field("email", "'email' must be an e-mail address of at most %d characters.", people.MaxEmailChars)
	}
	if req.Community != Community {
		return apigw.Response{}, problem.Field("community", "'community' must be %s.", Community)
	}
	now := h.Now().UTC()
	token := people.NewToken()
	inv := people.Invitation{TokenHash: people.TokenHash(token), Email: email, Community: req.Community, CreatedBy: caller.UserID, CreatedAt: now, Expires: now.Add(people.InvitationValid)}
	if err := h.Store.PutInvitation(ctx, inv); err != nil {
		return apigw.Response{}, problem.Wrap(err, "store the invitation")
	}
	link := h.link("register", url.Values{"invitation": {token}})
	if email != "" {
		msg := mail.Compose(email, "Invitation to register your company", "Hello,",
			[]string{"You are invited to register your company in the " + Community + " community of the Certified Pick-up platform.",
				"The link is valid for 7 days and works once."}, "Register your company", link)
		if _, err := h.Mail.Send(ctx, msg); err != nil {
			return apigw.Response{}, problem.Wrap(err, "send the invitation")
		}
	}
	return apigw.JSON(http.StatusCreated, Invited{InvitationURL: link, Expires: inv.Expires})
}

// link is a console address: the token goes after '#', which browsers never send to a server, so
// no log, proxy or mail scanner's GET consumes or records it; the console POSTs it.
func (h *Registration) link(view string, q url.Values) string {
	return strings.TrimRight(h.ConsoleURL, "/") + "/#/" + view + "?" + q.Encode()
}

type registrationRequest struct {
	InvitationToken string        `json:"invitationToken"`
	Email           string        `json:"email"`
	FirstName       string        `json:"firstName"`
	LastName        string        `json:"lastName"`
	Company         companyFields `json:"company"`
}

type companyFields struct {
	Name      string           `json:"name"`
	VAT       string           `json:"vat"`
	EORI      string           `json:"eori,omitempty"`
	Addresses []entity.Address `json:"addresses"`
	Roles     []entity.Role    `json:"roles"`
}

// Registered is the 202 of a registration.
type Registered struct {
	RegistrationID string `json:"registrationId"`
}

// ErrInvitation is the one answer to an unknown, used or expired invitation.
var errInvitation = problem.Field("invitationToken", "the invitation link is not valid: unknown, used or expired; ask your community administrator for a new one.")

// HandleRegister serves POST /onboarding/v1/registrations: 202 and a confirmation e-mail; a VAT or
// company name registered already is a 409 naming the field, with the access-request path.
func (h *Registration) HandleRegister(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var req registrationRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	now := h.Now().UTC()
	company := entity.Entity{NxtEntityID: newEntityID(), Name: req.Company.Name, VAT: req.Company.VAT, EORI: req.Company.EORI,
		Addresses: req.Company.Addresses, Roles: req.Company.Roles, TerminalCodes: []string{}}
	company.Normalize()
	email := people.FoldEmail(req.Email)
	var v problem.Validation
	if !people.ValidEmail(email) {
		v.Add("email", "'email' must be an e-mail address of at most %d characters.", people.MaxEmailChars)
	}
	if !people.ValidName(req.FirstName) {
		v.Add("firstName", "'firstName' must be 1 to %d characters.", people.MaxNameChars)
	}
	if !people.ValidName(req.LastName) {
		v.Add("lastName", "'lastName' must be 1 to %d characters.", people.MaxNameChars)
	}
	if len(company.Addresses) > 2 {
		v.Add("company.addresses", "'addresses' holds the headquarters and at most one billing address.")
	}
	for _, role := range company.Roles {
		if !registrableRole(role) {
			v.Add("company.roles", "'roles' may name ShippingAgent, ReleaseParty and TransportOperator; terminal operators and authorities are onboarded by support.")
			break
		}
	}
	if err := company.Validate(); err != nil {
		for field, msgs := range problem.As(err).Fields {
			if field != "nxtEntityId" {
				for _, m := range msgs {
					v.Add("company."+field, "%s", m)
				}
			}
		}
	}
	if err := v.Err(); err != nil {
		return apigw.Response{}, err
	}
	inv, err := h.Store.Invitation(ctx, people.TokenHash(req.InvitationToken))
	switch {
	case errors.Is(err, people.ErrNotFound):
		return apigw.Response{}, errInvitation
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "read the invitation")
	case !inv.Usable(now):
		return apigw.Response{}, errInvitation
	case inv.Email != "" && inv.Email != email:
		return apigw.Response{}, problem.Field("email", "'email' must be the address the invitation was sent to.")
	}
	field, _, err := h.Store.Taken(ctx, company.VAT, company.Name)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "check the company")
	}
	if field != "" {
		return apigw.Response{}, &problem.Error{Kind: problem.KindConflict,
			Detail: fmt.Sprintf("A company with this %s is registered already. Ask its administrators for an account: POST /onboarding/v1/access-requests.", field),
			Fields: map[string][]string{"company." + field: {"'" + field + "' is registered already; send an access request to that company's administrators instead."}}}
	}
	token := people.NewToken()
	reg := people.Registration{ID: uuid.NewString(), InvitationHash: inv.TokenHash, Community: inv.Community, Email: email,
		FirstName: strings.TrimSpace(req.FirstName), LastName: strings.TrimSpace(req.LastName), Company: company,
		ConfirmHash: people.TokenHash(token), Expires: now.Add(people.ConfirmationTime), Status: people.RegistrationPending, CreatedAt: now}
	switch err := h.Store.StartRegistration(ctx, reg); {
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, errInvitation // used meanwhile
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "store the registration")
	}
	// An address that has an account already gets a note instead of a link; the answer is the same.
	msg := mail.Compose(email, "Confirm your e-mail address", "Dear "+reg.FirstName+",",
		[]string{"Thank you for registering " + company.Name + ". Confirm your e-mail address and choose your password.",
			"The link is valid for 48 hours and works once."}, "Confirm and set your password", h.link("confirm", url.Values{"registration": {reg.ID}, "token": {token}}))
	if _, err := h.Store.PersonByEmail(ctx, email); err == nil {
		msg = mail.Compose(email, "A registration with your e-mail address", "Hello,",
			[]string{"Someone registered " + company.Name + " with your e-mail address, which already has an account. If that was you, sign in instead; otherwise ignore this message."},
			"Open the console", h.ConsoleURL)
	}
	if _, err := h.Mail.Send(ctx, msg); err != nil {
		return apigw.Response{}, problem.Wrap(err, "send the confirmation")
	}
	return apigw.JSON(http.StatusAccepted, Registered{RegistrationID: reg.ID})
}

func registrableRole(r entity.Role) bool {
	for _, x := range registrable {
		if x == r {
			return true
		}
	}
	return false
}

// entityIDPattern checks an entity id in a path before it is used as a key.
var entityIDPattern = regexp.MustCompile(`^NXT[0-9]{9,12}$`)

// newEntityID draws an id of a self-registered entity: NXT3 and eight random digits (support's own
// onboarding uses NXT1/NXT2…); a collision is refused by the registration's transaction.
func newEntityID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("NXT3%08d", n.Int64())
}

type confirmRequest struct {
	Token         string         `json:"token"`
	Password      string         `json:"password"`
	AcceptedTerms []people.Terms `json:"acceptedTerms"`
}

// Confirmed is the answer to a confirmation.
type Confirmed struct {
	EntityID   string `json:"entityId"`
	UserID     string `json:"userId"`
	Membership string `json:"membership"`
}

var errConfirmation = problem.Field("token", "the confirmation link is not valid: unknown, used or expired; register again from your invitation's administrator.")

// HandleConfirm serves POST /onboarding/v1/registrations/{registrationId}/confirm: the company and
// its first person (an Admin) are created, the membership waits for approval.
func (h *Registration) HandleConfirm(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var req confirmRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	now := h.Now().UTC()
	id := r.PathParams["registrationId"]
	if _, err := uuid.Parse(id); err != nil {
		return apigw.Response{}, errConfirmation
	}
	reg, err := h.Store.Registration(ctx, id)
	switch {
	case errors.Is(err, people.ErrNotFound):
		return apigw.Response{}, errConfirmation
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "read the registration")
	case reg.Status != people.RegistrationPending || !now.Before(reg.Expires) || people.TokenHash(req.Token) != reg.ConfirmHash:
		return apigw.Response{}, errConfirmation
	}
	if err := people.CheckPassword(req.Password, reg.Email); err != nil {
		return apigw.Response{}, problem.Field("password", "%s.", err.Error())
	}
	for _, want := range []people.Terms{people.GeneralTerms, people.CommunityTerms} {
		found := false
		for _, t := range req.AcceptedTerms {
			found = found || t == want
		}
		if !found {
			return apigw.Response{}, problem.Field("acceptedTerms", "the %s terms, version %s, must be accepted.", want.Name, want.Version)
		}
	}
	hash, err := people.HashPassword(req.Password)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "hash the password")
	}
	person := people.Person{UserID: uuid.NewString(), Email: reg.Email, FirstName: reg.FirstName, LastName: reg.LastName, EntityID: reg.Company.NxtEntityID,
		Role: people.Admin, Status: people.Active, CreatedAt: now, PasswordHash: hash,
		AcceptedTerms: []people.Accepted{{Name: people.GeneralTerms.Name, Version: people.GeneralTerms.Version, At: now},
			{Name: people.CommunityTerms.Name, Version: people.CommunityTerms.Version, At: now}}}
	m := people.Membership{EntityID: reg.Company.NxtEntityID, Name: reg.Company.Name, Community: reg.Community, Status: people.MemberPending, CreatedAt: now}
	err = h.Store.CompleteRegistration(ctx, reg, reg.Company, person, m)
	var dup *store.ErrDuplicate
	switch {
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, errConfirmation
	case errors.As(err, &dup) && dup.Field == "email":
		return apigw.Response{}, &problem.Error{Kind: problem.KindConflict, Detail: "This e-mail address has an account already: sign in instead.",
			Fields: map[string][]string{"email": {"the address has an account already"}}}
	case errors.As(err, &dup):
		return apigw.Response{}, &problem.Error{Kind: problem.KindConflict,
			Detail: fmt.Sprintf("A company with this %s was registered meanwhile. Ask its administrators for an account: POST /onboarding/v1/access-requests.", dup.Field),
			Fields: map[string][]string{"company." + dup.Field: {"registered already"}}}
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "complete the registration")
	}
	msg := mail.Compose(reg.Email, "Your registration is complete", "Dear "+reg.FirstName+",",
		[]string{reg.Company.Name + " is registered, and you are its administrator. A community administrator will now review the membership; you will hear of the decision by e-mail."},
		"Sign in", h.ConsoleURL)
	if _, err := h.Mail.Send(ctx, msg); err != nil {
		h.Log.ErrorContext(ctx, "registration e-mail not sent", "registrationId", reg.ID, "error", err.Error())
	}
	return apigw.JSON(http.StatusCreated, Confirmed{EntityID: reg.Company.NxtEntityID, UserID: person.UserID, Membership: m.Status})
}

// HandleMemberships serves GET /onboarding/v1/memberships?status=PendingApproval (community
// administrators): the oldest first, at most 100.
func (h *Registration) HandleMemberships(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := h.Sessions.Require(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	if !caller.Has(people.CommunityAdmin) {
		return apigw.Response{}, problem.New(problem.KindUnauthorized, "only a community administrator reviews memberships")
	}
	status := people.MemberPending
	if q := r.Query["status"]; len(q) > 0 {
		status = q[0]
	}
	if status != people.MemberPending && status != people.MemberApproved && status != people.MemberRejected {
		return apigw.Response{}, problem.Field("status", "'status' must be PendingApproval, Approved or Rejected.")
	}
	ms, err := h.Store.Memberships(ctx, status, 100)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "list memberships")
	}
	if ms == nil {
		ms = []people.Membership{}
	}
	return apigw.JSON(http.StatusOK, ms)
}

type decisionRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
}

// decodeDecision reads a community administrator's or an asset manager's decision: Approve, or
// Reject with a reason of at most 500 characters (400 naming the field otherwise).
func decodeDecision(body []byte) (decisionRequest, error) {
	var req decisionRequest
	if err := apigw.DecodeStrict(body, &req); err != nil {
		return req, err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case req.Decision != "Approve" && req.Decision != "Reject":
		return req, problem.Field("decision", "'decision' must be Approve or Reject.")
	case req.Decision == "Reject" && req.Reason == "":
		return req, problem.Field("reason", "'reason' is required to reject.")
	case len([]rune(req.Reason)) > 500:
		return req, problem.Field("reason", "'reason' must be at most 500 characters.")
	}
	return req, nil
}

// HandleDecide serves POST /onboarding/v1/memberships/{entityId}/decision: approve, or reject with
// a reason; the entity's admins are e-mailed.
func (h *Registration) HandleDecide(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := h.Sessions.Require(ctx, r)
	if err != nil {
		return apigw.Response{}, err
	}
	if !caller.Has(people.CommunityAdmin) {
		return apigw.Response{}, problem.New(problem.KindUnauthorized, "only a community administrator decides on memberships")
	}
	req, err := decodeDecision(r.Body)
	if err != nil {
		return apigw.Response{}, err
	}
	if !entityIDPattern.MatchString(r.PathParams["entityId"]) {
		return apigw.Response{}, problem.Field("entityId", "'entityId' must be NXT and 9 to 12 digits.")
	}
	m, err := h.Store.Membership(ctx, r.PathParams["entityId"])
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read the membership")
	}
	if m.CreatedAt.IsZero() {
		// No registration of this entity: onboarded by support (approved), or unknown.
		return apigw.Response{}, problem.New(problem.KindNotFound, "no registration of %s waits for a decision", m.EntityID)
	}
	if m.Status != people.MemberPending {
		return apigw.Response{}, problem.New(problem.KindConflict, "the membership is %s, not PendingApproval", m.Status)
	}
	now := h.Now().UTC()
	m.Status, m.Reason, m.DecidedBy, m.DecidedAt = people.MemberApproved, req.Reason, caller.UserID, &now
	if req.Decision == "Reject" {
		m.Status = people.MemberRejected
	}
	switch err := h.Store.DecideMembership(ctx, m); {
	case errors.Is(err, people.ErrStale):
		return apigw.Response{}, problem.New(problem.KindConflict, "another administrator decided meanwhile")
	case err != nil:
		return apigw.Response{}, problem.Wrap(err, "store the decision")
	}
	admins, err := h.Store.PeopleOf(ctx, m.EntityID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read the admins")
	}
	for _, p := range admins {
		if p.Role != people.Admin || p.Status != people.Active {
			continue
		}
		text := []string{m.Name + " is approved as a member of the " + m.Community + " community. You can now subscribe to the APIs."}
		subject := "Membership approved"
		if m.Status == people.MemberRejected {
			subject, text = "Membership not approved", []string{"The membership of " + m.Name + " was not approved, for this reason: " + m.Reason}
		}
		if _, err := h.Mail.Send(ctx, mail.Compose(p.Email, subject, "Dear "+p.FirstName+",", text, "Open the console", h.ConsoleURL)); err != nil {
			h.Log.ErrorContext(ctx, "decision e-mail not sent", "entityId", m.EntityID, "error", err.Error())
		}
	}
	return apigw.JSON(http.StatusOK, m)
}

type accessRequest struct {
	VAT       string `json:"vat,omitempty"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Message   string `json:"message,omitempty"`
}

// HandleAccessRequest serves POST /onboarding/v1/access-requests: the registered company's admins
// are asked by e-mail to invite the person. The answer is 202 whether or not the company exists.
func (h *Registration) HandleAccessRequest(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	var req accessRequest
	if err := apigw.DecodeStrict(r.Body, &req); err != nil {
		return apigw.Response{}, err
	}
	email := people.FoldEmail(req.Email)
	var v problem.Validation
	if !people.ValidEmail(email) {
		v.Add("email", "'email' must be an e-mail address.")
	}
	if !people.ValidName(req.FirstName) || !people.ValidName(req.LastName) {
		v.Add("firstName", "'firstName' and 'lastName' must be 1 to %d characters.", people.MaxNameChars)
	}
	if (req.VAT == "") == (req.Name == "") {
		v.Add("vat", "name the company by exactly one of 'vat' and 'name'.")
	}
	if len([]rune(req.Message)) > 1000 || len([]rune(req.Name)) > entity.MaxNameLength || len(req.VAT) > 15 {
		v.Add("message", "'message' must be at most 1000 characters, 'name' %d, 'vat' 15.", entity.MaxNameLength)
	}
	if err := v.Err(); err != nil {
		return apigw.Response{}, err
	}
	_, entityID, err := h.Store.Taken(ctx, strings.ToUpper(strings.TrimSpace(req.VAT)), strings.TrimSpace(req.Name))
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "find the company")
	}
	if entityID != "" {
		admins, err := h.Store.PeopleOf(ctx, entityID)
		if err != nil {
			return apigw.Response{}, problem.Wrap(err, "read the admins")
		}
		for _, p := range admins {
			if p.Role == people.Admin && p.Status == people.Active {
				text := []string{fmt.Sprintf("%s %s (%s) asks for an account in your company.", strings.TrimSpace(req.FirstName), strings.TrimSpace(req.LastName), email)}
				if m := strings.TrimSpace(req.Message); m != "" {
					text = append(text, "Their message: "+m)
				}
				text = append(text, "If you know them, invite them from the console's People page.")
				if _, err := h.Mail.Send(ctx, mail.Compose(p.Email, "An access request for your company", "Dear "+p.FirstName+",", text, "Open the console", h.ConsoleURL)); err != nil {
					h.Log.ErrorContext(ctx, "access request e-mail not sent", "entityId", entityID, "error", err.Error())
				}
			}
		}
	}
	return apigw.JSON(http.StatusAccepted, map[string]string{"status": "If the company is registered, its administrators have been asked to invite you."})
}
