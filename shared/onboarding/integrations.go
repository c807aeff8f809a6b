package onboarding

import (
	"context"
	"net/http"

	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/signin"
)

// Credentials is the storage port of an entity's API credentials (shared/store implements it).
type Credentials interface {
	Credentials(ctx context.Context, entityID string) ([]identity.Client, []identity.SubscriptionKey, []identity.IngestionID, error)
}

// Integrations serves the console's read-only view of a company's integrations (contract §13): its
// API clients (never a secret) and, through the channel endpoints' own handlers, its notification
// channels and their delivery log.
type Integrations struct {
	Sessions    signin.Sessions
	Credentials Credentials
	// Channel is the channel endpoint's handler the console reads through (list, or deliveries).
	Channel apigw.Handler
}

// consoleActor marks a console admin acting for its entity on the channel reads (the handlers
// need a caller with a role; they judge only its entity).
const consoleActor entity.Role = "ConsoleAdmin"

// asEntity lets a console admin read as its entity.
func (h *Integrations) asEntity(ctx context.Context, r *apigw.Request) error {
	c, err := h.Sessions.Require(ctx, r)
	if err != nil {
		return err
	}
	if c.Role != people.Admin {
		return problem.New(problem.KindUnauthorized, "only an admin of the company reads its integrations")
	}
	r.Caller = &apigw.Caller{EntityID: c.EntityID, ClientID: "console:" + c.UserID, Roles: []entity.Role{consoleActor}}
	return nil
}

// HandleClients serves GET /onboarding/v1/clients: the company's API clients (ids and dates).
func (h *Integrations) HandleClients(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := h.asEntity(ctx, r); err != nil {
		return apigw.Response{}, err
	}
	clients, _, _, err := h.Credentials.Credentials(ctx, r.Caller.EntityID)
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "read the clients")
	}
	if clients == nil {
		clients = []identity.Client{}
	}
	return apigw.JSON(http.StatusOK, clients)
}

// HandleChannel serves GET /onboarding/v1/channels and …/channels/{channelId}/deliveries through
// the channel endpoints' handler.
func (h *Integrations) HandleChannel(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	if err := h.asEntity(ctx, r); err != nil {
		return apigw.Response{}, err
	}
	return h.Channel(ctx, r)
}
