// Package marketplace holds the APIs companies subscribe to and their subscriptions (contract §11,
// Azure API Management's model): a subscription of an entity to an API in an environment, approved
// at once or by the API's asset manager, with a primary and a secondary subscription key, each
// regenerated on its own; cancelling revokes both. No AWS types, no HTTP.
package marketplace

import (
	"time"

	"github.com/portcommunity/cpu/shared/catalog"
)

// API is one API of the marketplace.
type API struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Description      string   `json:"description"`
	Environments     []string `json:"environments"`
	TermsVersion     string   `json:"termsVersion"`
	RequiresApproval bool     `json:"requiresApproval"`
}

// Environments of the marketplace; each deployed stage serves one (production Live, the others
// Acceptance), and its console subscribes to that one: keys of one stage do not open another.
const (
	Acceptance = "Acceptance"
	Live       = "Live"
)

// EnvironmentOf is the environment a stage serves.
func EnvironmentOf(stage string) string {
	if stage == "production" {
		return Live
	}
	return Acceptance
}

// APIs of the marketplace.
var APIs = []API{
	{ID: catalog.SubscriptionAPI, Name: "Certified Pick-up", Description: "The digital release of import containers: releases, rights, lights, gate and notifications.",
		Environments: []string{Acceptance, Live}, TermsVersion: "2026-01"},
	{ID: "import-consignment", Name: "Import Consignment", Description: "Consignment data of shipping agents, read under a data-sharing agreement.",
		Environments: []string{Acceptance, Live}, TermsVersion: "2026-01", RequiresApproval: true},
}

// Lookup finds an API by id.
func Lookup(id string) (API, bool) {
	for _, a := range APIs {
		if a.ID == id {
			return a, true
		}
	}
	return API{}, false
}

// Statuses of a subscription.
const (
	Pending   = "PendingApproval"
	Approved  = "Approved"
	Rejected  = "Rejected"
	Cancelled = "Cancelled"
)

// Subscription of an entity to an API in this stage's environment.
type Subscription struct {
	EntityID     string     `json:"entityId"`
	API          string     `json:"api"`
	Environment  string     `json:"environment"`
	TermsVersion string     `json:"termsVersion"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason,omitempty"`
	RequestedBy  string     `json:"requestedBy"`
	DecidedBy    string     `json:"decidedBy,omitempty"`
	CreatedAt    time.Time  `json:"createdAt"`
	DecidedAt    *time.Time `json:"decidedAt,omitempty"`
	// Keys are sealed (the platform's secret box, bound to the subscription), so admins can see
	// them again; the gateway looks keys up by their hash only.
	Keys    *SealedKeys `json:"-"`
	Version int         `json:"-"`
}

// ID names a subscription within the stage.
func (s Subscription) ID() string { return s.EntityID + "/" + s.API }

// Open tells whether the subscription still holds or awaits keys (another one is refused).
func (s Subscription) Open() bool { return s.Status == Pending || s.Status == Approved }

// SealedKeys are a subscription's two keys.
type SealedKeys struct {
	Primary         []byte `json:"primary"`
	Secondary       []byte `json:"secondary"`
	PrimaryHash     string `json:"primaryHash"`
	SecondaryHash   string `json:"secondaryHash"`
	PrimaryPrefix   string `json:"primaryPrefix"`
	SecondaryPrefix string `json:"secondaryPrefix"`
}

// Which key of the pair.
const (
	PrimaryKey   = "primary"
	SecondaryKey = "secondary"
)
