// Package reads serves the read endpoints: E2 (a party's release rights) and E5 (a release's
// detail), async reads whose answer reaches the caller as a notification; E6 (the company
// registry) and E7 (the caller's notifications), answered at once.
package reads

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
)

// RightsStore is the storage port of E2 and E5.
type RightsStore interface {
	RightsOf(ctx context.Context, entityID, port string) ([]release.Membership, int, error)
	RightsPage(ctx context.Context, entityID, port string, n int) ([]release.Membership, int, error)
	CountRights(ctx context.Context, entityID, port string) (int, error)
	Releases(ctx context.Context, ms []release.Membership) ([]release.Release, error)
	ActiveOnContainer(ctx context.Context, port, container string) ([]release.Release, error)
	Hops(ctx context.Context, port, container, releaseID string, newest int) ([]release.Hop, error)
	Profiles(ctx context.Context, ids []string) ([]entity.Entity, error)
	PutNotifications(ctx context.Context, ns []notification.Notification) error
}

// RightsFilters of E2 (names as the seed, matched case-insensitively).
type RightsFilters struct {
	Page, PageSize     int
	Status             *int
	Equipment, BL      string
	ShippingAgentName  string
	ShippingAgentTIN   string
	TerminalName       string
	StakeholderName    string
	StakeholderTIN     string
	ReleaseRightStatus *int
	ActionStatus       *int
}

var (
	rightStatuses  = map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 8: true}
	viewStatuses   = map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true}
	actionStatuses = map[int]bool{0: true, 1: true, 2: true, 3: true}
)

// ParseRightsFilters validates E2's query parameters.
func ParseRightsFilters(params map[string][]string) (RightsFilters, error) {
	f := RightsFilters{Page: 1, PageSize: 25}
	var v problem.Validation
	get := func(name string) string {
		for k, vals := range params {
			if strings.EqualFold(k, name) && len(vals) > 0 {
				return strings.TrimSpace(vals[len(vals)-1])
			}
		}
		return ""
	}
	num := func(name string, allowed map[int]bool, min, max int) *int {
		s := get(name)
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			v.Add(name, "'%s' must be a whole number.", name)
		case allowed != nil && !allowed[n]:
			v.Add(name, "'%s' is not one of the seed's values.", name)
		case allowed == nil && (n < min || n > max):
			v.Add(name, "'%s' must be between %d and %d.", name, min, max)
		default:
			return &n
		}
		return nil
	}
	if p := num("page", nil, 1, 1<<30); p != nil {
		f.Page = *p
	}
	if p := num("pageSize", nil, 1, 100); p != nil {
		f.PageSize = *p
	}
	f.Status = num("status", viewStatuses, 0, 0)
	f.ReleaseRightStatus = num("releaserightstatusfilter", rightStatuses, 0, 0)
	f.ActionStatus = num("actionStatusFilter", actionStatuses, 0, 0)
	for name, dst := range map[string]*string{
		"equipmentnumberfilter": &f.Equipment, "billofladingnumberfilter": &f.BL, "shippingagentnamefilter": &f.ShippingAgentName,
		"shippingagenttinfilter": &f.ShippingAgentTIN, "terminalnamefilter": &f.TerminalName,
		"currentstakeholdernamefilter": &f.StakeholderName, "currentstakeholdertinfilter": &f.StakeholderTIN,
	} {
		if s := get(name); utf8.RuneCountInString(s) > 100 || !release.Plain(s) {
			v.Add(name, "'%s' must be at most 100 characters, without control characters.", name)
		} else {
			*dst = strings.ToUpper(s)
		}
	}
	return f, v.Err()
}

// Item is one right in an E2 page or an E5 detail.
type Item struct {
	ReleaseID             string   `json:"releaseId"`
	PortLoCode            string   `json:"portLoCode"`
	EquipmentNumber       string   `json:"equipmentNumber"`
	BillOfLadingNumbers   []string `json:"billOfLadingNumbers"`
	ReleaseIdentification string   `json:"releaseIdentification"`
	TerminalCode          string   `json:"terminalCode"`
	ShippingAgent         Party    `json:"shippingAgent"`
	Terminal              Party    `json:"terminalOperator"`
	CurrentStakeholder    Party    `json:"currentStakeholder"`
	PendingTo             *Party   `json:"pendingTo,omitempty"`
	ReleaseRightStatus    int      `json:"releaseRightStatus"`
	ActionStatus          int      `json:"actionStatus"`
	// Lights keyed by their names, and whether the container may be picked up now (contract §10).
	Lights      map[release.LightName]string `json:"lights"`
	PickupReady bool                         `json:"pickupReady"`
	// Assigned: the holding transport operator assigned the pick-up (its details are the gate's).
	Assigned              bool       `json:"assigned"`
	ReleaseDateTimeUtc    *time.Time `json:"releaseDateTimeUtc,omitempty"`
	ExpirationDateTimeUtc *time.Time `json:"expirationDateTimeUtc,omitempty"`
	// E5 only: the newest hops of the chain of custody, oldest first; the chain's length, and
	// whether older hops were left out.
	Chain          []release.Hop `json:"chainOfCustody,omitempty"`
	ChainLength    int           `json:"chainOfCustodyLength,omitempty"`
	ChainTruncated bool          `json:"chainOfCustodyTruncated,omitempty"`
}

// Party as a notification shows it.
type Party struct {
	NxtEntityID string `json:"nxtEntityId"`
	Name        string `json:"name,omitempty"`
	TIN         string `json:"tin,omitempty"`
}

// Page is the E2 answer.
type Page struct {
	Items      []Item `json:"releaseRights"`
	Page       int    `json:"page"`
	PageSize   int    `json:"pageSize"`
	TotalRows  int    `json:"totalRows"`
	TotalPages int    `json:"totalPages"`
}

// Stats tell what a list cost (for measurements).
type Stats struct{ Queries, ItemsRead int }

// unfiltered tells whether a list asks for every right (the common case, served without reading
// the whole partition).
func (f RightsFilters) unfiltered() bool {
	return f.Status == nil && f.ReleaseRightStatus == nil && f.ActionStatus == nil && f.Equipment == "" && f.BL == "" &&
		f.ShippingAgentName == "" && f.ShippingAgentTIN == "" && f.TerminalName == "" && f.StakeholderName == "" && f.StakeholderTIN == ""
}

// List computes one page of a party's rights in a port. Unfiltered: the total from the party's
// counters and the page from one Query in key order. Filtered: every membership (a Query on the
// party's partition), the filters, then full releases for the page only.
func List(ctx context.Context, st RightsStore, caller, port string, f RightsFilters, now time.Time) (Page, Stats, error) {
	if f.unfiltered() {
		return listAll(ctx, st, caller, port, f, now)
	}
	ms, calls, err := st.RightsOf(ctx, caller, port)
	if err != nil {
		return Page{}, Stats{}, err
	}
	stats := Stats{Queries: calls, ItemsRead: len(ms)}
	parties, err := profilesOf(ctx, st, ms, f)
	if err != nil {
		return Page{}, stats, err
	}
	var hits []release.Membership
	for _, m := range ms {
		if match(m, f, parties) {
			hits = append(hits, m)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Container != hits[j].Container {
			return hits[i].Container < hits[j].Container
		}
		return hits[i].ReleaseID < hits[j].ReleaseID
	})
	page := Page{Items: []Item{}, Page: f.Page, PageSize: f.PageSize, TotalRows: len(hits), TotalPages: (len(hits) + f.PageSize - 1) / f.PageSize}
	from := (f.Page - 1) * f.PageSize
	if from >= len(hits) {
		return page, stats, nil
	}
	rels, err := st.Releases(ctx, hits[from:min(from+f.PageSize, len(hits))])
	if err != nil {
		return page, stats, err
	}
	for _, r := range rels {
		page.Items = append(page.Items, itemOf(r, caller, parties, now))
	}
	return page, stats, nil
}

func listAll(ctx context.Context, st RightsStore, caller, port string, f RightsFilters, now time.Time) (Page, Stats, error) {
	total, err := st.CountRights(ctx, caller, port)
	if err != nil {
		return Page{}, Stats{}, err
	}
	page := Page{Items: []Item{}, Page: f.Page, PageSize: f.PageSize, TotalRows: total, TotalPages: (total + f.PageSize - 1) / f.PageSize}
	from := (f.Page - 1) * f.PageSize
	if from >= total {
		return page, Stats{}, nil
	}
	ms, calls, err := st.RightsPage(ctx, caller, port, from+f.PageSize)
	stats := Stats{Queries: calls, ItemsRead: len(ms)}
	if err != nil || from >= len(ms) {
		return page, stats, err
	}
	ms = ms[from:]
	parties, err := profilesOf(ctx, st, ms, f)
	if err != nil {
		return page, stats, err
	}
	rels, err := st.Releases(ctx, ms)
	if err != nil {
		return page, stats, err
	}
	for _, r := range rels {
		page.Items = append(page.Items, itemOf(r, caller, parties, now))
	}
	return page, stats, nil
}

// profilesOf reads the parties the filters and the answer name (few: agents, terminals, holders).
func profilesOf(ctx context.Context, st RightsStore, ms []release.Membership, f RightsFilters) (map[string]entity.Entity, error) {
	ids := map[string]bool{}
	for _, m := range ms {
		ids[m.ShippingID], ids[m.TerminalID], ids[m.HolderID] = true, true, true
	}
	return profiles(ctx, st, ids)
}

func profiles(ctx context.Context, st RightsStore, ids map[string]bool) (map[string]entity.Entity, error) {
	list := make([]string, 0, len(ids))
	for id := range ids {
		if id != "" {
			list = append(list, id)
		}
	}
	out := map[string]entity.Entity{}
	for len(list) > 0 {
		n := min(100, len(list))
		es, err := st.Profiles(ctx, list[:n])
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			out[e.NxtEntityID] = e
		}
		list = list[n:]
	}
	return out, nil
}

func match(m release.Membership, f RightsFilters, ps map[string]entity.Entity) bool {
	contains := func(hay, needle string) bool { return needle == "" || strings.Contains(strings.ToUpper(hay), needle) }
	if f.Status != nil {
		switch *f.Status {
		case 0: // active: not archived or expired
			if m.Status == release.StatusExpired || m.Status == release.StatusArchived {
				return false
			}
		case 1: // awaiting an action by me
			if m.ActionStatus != release.ActionPending {
				return false
			}
		case release.RightsStatusPolice: // police or customs not OK
			if !m.AuthoritiesNotOK {
				return false
			}
		case release.RightsStatusTerminal: // discharge or terminal release not OK
			if !m.TerminalNotOK {
				return false
			}
		case 4: // commercial light not green
			if m.Light == string(release.LightOK) {
				return false
			}
		}
	}
	return contains(m.Container, f.Equipment) && contains(m.BLs, f.BL) &&
		contains(ps[m.ShippingID].Name, f.ShippingAgentName) && (f.ShippingAgentTIN == "" || ps[m.ShippingID].VAT == f.ShippingAgentTIN) &&
		contains(ps[m.TerminalID].Name, f.TerminalName) &&
		contains(ps[m.HolderID].Name, f.StakeholderName) && (f.StakeholderTIN == "" || ps[m.HolderID].VAT == f.StakeholderTIN) &&
		(f.ReleaseRightStatus == nil || m.Status == *f.ReleaseRightStatus) && (f.ActionStatus == nil || m.ActionStatus == *f.ActionStatus)
}

func itemOf(r release.Release, viewer string, ps map[string]entity.Entity, now time.Time) Item {
	p := func(id string) Party { return Party{NxtEntityID: id, Name: ps[id].Name, TIN: ps[id].VAT} }
	it := Item{
		ReleaseID: r.ReleaseID, PortLoCode: r.PortLoCode, EquipmentNumber: r.EquipmentNumber, BillOfLadingNumbers: r.Data.BillOfLadingNumbers,
		ReleaseIdentification: r.Data.ReleaseIdentification, TerminalCode: r.Data.TerminalCode,
		ShippingAgent: p(r.CarrierID), Terminal: p(r.TerminalOperatorID), CurrentStakeholder: p(r.Right.Holder),
		ReleaseRightStatus: r.Right.ViewStatus(viewer), ActionStatus: r.Right.ViewAction(viewer),
		Lights: r.View(), PickupReady: r.Readiness(now).Ready, Assigned: r.Right.Assignment != nil,
		ReleaseDateTimeUtc: r.Data.ReleaseDateTimeUtc, ExpirationDateTimeUtc: r.Data.ExpirationDateTimeUtc,
	}
	if r.Right.PendingTo != "" {
		pt := p(r.Right.PendingTo)
		it.PendingTo = &pt
	}
	return it
}

// Bounds of an E5 answer, so that it always fits one notification: the newest hops of each
// release's chain of custody (with the chain's full length), and at most so many releases.
const (
	MaxDetailHops     = 50
	MaxDetailReleases = 10
)

// Detail is E5's answer: the releases of a container that the caller has a part in (at most
// MaxDetailReleases, and truncated says whether more matched), each with the newest hops of its
// chain of custody.
func Detail(ctx context.Context, st RightsStore, caller string, readsAll bool, port, container string, bls []string, releaseID string, now time.Time) (items []Item, truncated bool, err error) {
	rels, err := st.ActiveOnContainer(ctx, port, container)
	if err != nil {
		return nil, false, err
	}
	var mine []release.Release
	ids := map[string]bool{}
	for _, r := range rels {
		if len(bls) > 0 && release.BillOfLadingKey(bls) != r.BillOfLadingKey {
			continue
		}
		if releaseID != "" && releaseID != r.Data.ReleaseIdentification {
			continue
		}
		// Parties with a part: the shipping agent, the terminal, the holder and a pending receiver.
		if !readsAll && caller != r.CarrierID && caller != r.TerminalOperatorID && caller != r.Right.Holder && caller != r.Right.PendingTo {
			continue
		}
		if len(mine) == MaxDetailReleases {
			truncated = true
			break
		}
		mine = append(mine, r)
		ids[r.CarrierID], ids[r.TerminalOperatorID], ids[r.Right.Holder], ids[r.Right.PendingTo] = true, true, true, true
	}
	ps, err := profiles(ctx, st, ids)
	if err != nil {
		return nil, false, err
	}
	items = make([]Item, 0, len(mine))
	for _, r := range mine {
		items = append(items, itemOf(r, caller, ps, now))
	}
	// Each release's hops share what the answer's budget leaves after the releases themselves:
	// newest first, as many as fit (a reason can be 256 characters of four bytes each).
	share := (MaxAnswerBytes - encodedSize(items)) / max(len(items), 1)
	for i, r := range mine {
		hops, err := st.Hops(ctx, r.PortLoCode, r.EquipmentNumber, r.ReleaseID, MaxDetailHops)
		if err != nil {
			return nil, false, err
		}
		keep, used := len(hops), 0
		for keep > 0 {
			if used += encodedSize(hops[keep-1]) + 1; used > share {
				break
			}
			keep--
		}
		it := &items[i]
		it.Chain = hops[keep:]
		it.ChainLength, it.ChainTruncated = r.Right.Hops, r.Right.Hops > len(it.Chain)
	}
	return items, truncated, nil
}

// MaxAnswerBytes bounds the result an E2 or E5 answer carries, so that its notification stays
// under DynamoDB's 400 KB whatever the text in it (names and reasons may be four bytes a
// character).
const MaxAnswerBytes = 300 << 10

func encodedSize(v any) int {
	raw, _ := json.Marshal(v)
	return len(raw)
}

// Handlers of E2 and E5: they answer 200 with a public reference id; the result reaches the caller
// as a notification (ReleaseRight, Update), read through E7 or pushed to its channels.
type Handlers struct {
	Store RightsStore
	Ports release.Ports
	Now   func() time.Time
}

// HandleList serves E2.
func (h *Handlers) HandleList(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := apigw.RequireCaller(r)
	if err != nil {
		return apigw.Response{}, err
	}
	port, err := h.port(r)
	if err != nil {
		return apigw.Response{}, err
	}
	f, err := ParseRightsFilters(r.Query)
	if err != nil {
		return apigw.Response{}, err
	}
	page, _, err := List(ctx, h.Store, caller.EntityID, port, f, h.Now().UTC())
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "list rights")
	}
	if n := encodedSize(page); n > MaxAnswerBytes {
		// Only rows near every limit in text that JSON writes large ("<" and "&" take six bytes)
		// come here; the default page of 25 rows always fits.
		fit := max(1, len(page.Items)*MaxAnswerBytes/n)
		return h.answer(ctx, r, caller.EntityID, port, "", nil, fmt.Sprintf(
			"This page is %d KB, more than the %d KB one notification carries; ask for a pageSize of at most %d.", n>>10, MaxAnswerBytes>>10, fit))
	}
	return h.answer(ctx, r, caller.EntityID, port, "", page, "")
}

// HandleDetail serves E5.
func (h *Handlers) HandleDetail(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := apigw.RequireCaller(r)
	if err != nil {
		return apigw.Response{}, err
	}
	port, err := h.port(r)
	if err != nil {
		return apigw.Response{}, err
	}
	container := release.NormalizeContainer(r.PathParams["equipmentNumber"])
	if !release.ValidContainerNumber(container) {
		return apigw.Response{}, problem.Field("equipmentNumber", "'equipmentNumber' must be an ISO 6346 container number with a valid check digit.")
	}
	var bls []string
	for k, vals := range r.Query {
		if strings.EqualFold(k, "billOfLadingNumbers") {
			for _, v := range vals {
				for _, b := range strings.Split(v, ",") {
					if b = strings.TrimSpace(b); b != "" {
						bls = append(bls, b)
					}
				}
			}
		}
	}
	rid := ""
	for k, vals := range r.Query {
		if strings.EqualFold(k, "releaseIdentification") && len(vals) > 0 {
			rid = strings.TrimSpace(vals[0])
		}
	}
	if err := release.ValidateLookup(bls, rid); err != nil {
		return apigw.Response{}, err
	}
	// Authorities (customs, police) read the releases of every container of the ports served
	// (contract §10); everyone else the releases it has a part in.
	items, truncated, err := Detail(ctx, h.Store, caller.EntityID, caller.HasAnyRole(entity.Authority), port, container, bls, rid, h.Now().UTC())
	if err != nil {
		return apigw.Response{}, problem.Wrap(err, "release detail")
	}
	refusal := ""
	if len(items) == 0 {
		refusal = fmt.Sprintf("No release of container %s that you have a part in matches the request.", container)
	}
	var warnings []string
	if truncated {
		warnings = append(warnings, fmt.Sprintf("More than %d releases of container %s match; narrow the request with billOfLadingNumbers or releaseIdentification.", MaxDetailReleases, container))
	}
	return h.answer(ctx, r, caller.EntityID, port, container, items, refusal, warnings...)
}

func (h *Handlers) port(r *apigw.Request) (string, error) {
	port := strings.ToUpper(r.PathParams["portLoCode"])
	if !release.ValidPortFormat(port) || !h.Ports[port] {
		return "", problem.Field("portLoCode", "'portLoCode' must be a port served by this platform.")
	}
	return port, nil
}

// answer delivers the read's result (or NotValidated with the refusal) as one notification to the
// caller, written once, and answers 200 with its reference.
func (h *Handlers) answer(ctx context.Context, r *apigw.Request, caller, port, container string, result any, refusal string, warnings ...string) (apigw.Response, error) {
	ref := uuid.NewString()
	o := release.Outcome{PublicReferenceID: ref, ExternalReferenceID: r.ExternalRef, Requester: caller, Action: "Read",
		At: h.Now().UTC(), Applied: refusal == "", Errors: []string{}, Warnings: append([]string{}, warnings...), PortLoCode: port, EquipmentNumber: container}
	if refusal != "" {
		o.Errors = append(o.Errors, refusal)
		o.Notices = []release.Notice{{Type: release.TypeReleaseRight, Event: release.EventNotValidated, Recipients: []string{caller}}}
	} else {
		raw, err := json.Marshal(result)
		if err != nil {
			return apigw.Response{}, problem.Wrap(err, "encode result")
		}
		o.Result = raw
		o.Notices = []release.Notice{{Type: release.TypeReleaseRight, Event: release.EventUpdate, Recipients: []string{caller}}}
	}
	if err := h.Store.PutNotifications(ctx, notification.Build(o)); err != nil {
		return apigw.Response{}, problem.Wrap(err, "deliver the read's answer")
	}
	return apigw.JSON(http.StatusOK, map[string]any{"publicReferenceId": ref, "externalReferenceId": r.ExternalRef})
}
