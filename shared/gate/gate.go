// Package gate serves the terminal's gate validation (contract §10): may the driver at the gate
// take the container? It answers synchronously from one read of the container's current state
// (visit, active releases, PIN guards), judges readiness and the driver's PIN or identifiers, and
// keeps every validation in the container's history.
package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
)

// Request is the body of POST …/{equipmentNumber}/pickup-validations.
type Request struct {
	BillOfLadingNumbers []string `json:"billOfLadingNumbers,omitempty"`
	PickupPin           string   `json:"pickupPin,omitempty"`
	DriverID            string   `json:"driverId,omitempty"`
	LicensePlate        string   `json:"licensePlate,omitempty"`
	BargeENI            string   `json:"bargeEni,omitempty"`
	VisitID             string   `json:"visitId,omitempty"`
}

var (
	pinPattern        = regexp.MustCompile(`^[0-9]{6}$`)
	identifierPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z .\-/]{0,34}$`)
)

// Decode reads a validation request: 400 naming the field on a PIN of the wrong shape, an
// identifier or a B/L list beyond its limits.
func Decode(body []byte) (Request, error) {
	var r Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, problem.New(problem.KindBadRequest, "the body is not a valid request: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return r, problem.New(problem.KindBadRequest, "the body holds more than one JSON value")
	}
	var v problem.Validation
	if r.PickupPin != "" && !pinPattern.MatchString(r.PickupPin) {
		v.Add("pickupPin", "'pickupPin' must be 6 digits.")
	}
	for name, p := range map[string]*string{"driverId": &r.DriverID, "licensePlate": &r.LicensePlate, "bargeEni": &r.BargeENI, "visitId": &r.VisitID} {
		*p = strings.TrimSpace(*p)
		if *p != "" && !identifierPattern.MatchString(*p) {
			v.Add(name, "'%s' must be 1 to 35 letters, digits, spaces, dots, dashes or slashes.", name)
		}
	}
	if len(r.BillOfLadingNumbers) > release.MaxBillsOfLading {
		v.Add("billOfLadingNumbers", "'billOfLadingNumbers' must hold at most %d numbers.", release.MaxBillsOfLading)
	}
	for _, bl := range r.BillOfLadingNumbers {
		if n := len([]rune(bl)); n == 0 || n > release.MaxIdentifierChars || !release.Plain(bl) {
			v.Add("billOfLadingNumbers", "'billOfLadingNumbers' holds a number that is empty, longer than %d characters or with control characters.", release.MaxIdentifierChars)
			break
		}
	}
	return r, v.Err()
}

// Answer is the 200 answer.
type Answer struct {
	Allowed    bool                         `json:"allowed"`
	Reasons    []string                     `json:"reasons"`
	Lights     map[release.LightName]string `json:"lights"`
	ReleaseID  string                       `json:"releaseId,omitempty"`
	Holder     *Party                       `json:"holder"`
	Assignment *AssignmentView              `json:"assignment"`
}

// Party names the holder of the right.
type Party struct {
	NxtEntityID string `json:"nxtEntityId"`
}

// AssignmentView is the assignment as the gate sees it (never the PIN's hash).
type AssignmentView struct {
	Type         string     `json:"type"`
	DriverID     string     `json:"driverId,omitempty"`
	LicensePlate string     `json:"licensePlate,omitempty"`
	BargeENI     string     `json:"bargeEni,omitempty"`
	VisitID      string     `json:"visitId,omitempty"`
	WindowFrom   *time.Time `json:"pickupWindowFrom,omitempty"`
	WindowTo     *time.Time `json:"pickupWindowTo,omitempty"`
}

// Record is a validation as the container's history keeps it (the PIN itself is never kept: only
// whether one was given).
type Record struct {
	ID              string    `json:"id"`
	PortLoCode      string    `json:"portLoCode"`
	EquipmentNumber string    `json:"equipmentNumber"`
	At              time.Time `json:"at"`
	By              string    `json:"by"`
	ReleaseID       string    `json:"releaseId,omitempty"`
	PinGiven        bool      `json:"pinGiven"`
	Identifiers     []string  `json:"identifiers,omitempty"` // the names of the identifiers given
	Allowed         bool      `json:"allowed"`
	Reasons         []string  `json:"reasons"`
}

// GuardWrite is the new state of an assignment's PIN guard after a failed attempt.
type GuardWrite struct {
	Key  string
	Next release.PinGuard
}

// MaxPinFailures in PinWindow lock an assignment's PIN until the next assignment.
const (
	MaxPinFailures = 5
	PinWindow      = time.Hour
)

// ErrOtherTerminal: the container is at a terminal the caller does not operate (401).
var ErrOtherTerminal = errors.New("the container is at another terminal")

// Verdict is a judged validation: the answer, and the guard to write after a failed attempt.
type Verdict struct {
	Answer Answer
	Guard  *GuardWrite
}

// Judge decides a validation from the container's state (pure). callerTerminals are the terminal
// codes the caller operates; caller its entity id.
func Judge(st release.ContainerState, req Request, caller string, callerTerminals []string, now time.Time) (Verdict, error) {
	ans := Answer{Reasons: []string{}, Lights: st.Visit.Lights.OrStarting().View(release.ValueUnknown)}
	// The release the driver comes for: the one with the B/Ls shown, else the caller's own (a
	// release naming another terminal, an agent's mistake, does not close this gate). The
	// container's terminal is that release's; before a release, the terminal of its inputs.
	var rel *release.Release
	others := false
	for i, r := range st.Releases {
		switch {
		case len(req.BillOfLadingNumbers) > 0 && !sharesBL(r.Data.BillOfLadingNumbers, req.BillOfLadingNumbers):
			continue
		case r.TerminalOperatorID != caller:
			others = true
			continue
		case rel != nil:
			ans.Reasons = append(ans.Reasons, "Release: several active releases match; name billOfLadingNumbers")
			return Verdict{Answer: ans}, nil
		}
		rel = &st.Releases[i]
	}
	switch {
	case rel == nil && others:
		return Verdict{}, ErrOtherTerminal
	case len(st.Releases) == 0 && st.Visit.TerminalCode != "" && !slices.Contains(callerTerminals, st.Visit.TerminalCode):
		return Verdict{}, ErrOtherTerminal
	case rel == nil && len(st.Releases) > 0:
		ans.Reasons = append(ans.Reasons, "Release: no active release with these billOfLadingNumbers")
		return Verdict{Answer: ans}, nil
	case rel == nil:
		ans.Reasons = append(ans.Reasons, "Release: no active release")
		return Verdict{Answer: ans}, nil
	}
	ans.ReleaseID, ans.Lights = rel.ReleaseID, rel.View()
	ans.Holder = &Party{NxtEntityID: rel.Right.Holder}
	ans.Reasons = append(ans.Reasons, rel.Readiness(now).Reasons...)
	a := rel.Right.Assignment
	if a == nil {
		return Verdict{Answer: ans}, nil
	}
	ans.Assignment = &AssignmentView{Type: a.Type, DriverID: a.DriverID, LicensePlate: a.LicensePlate, BargeENI: a.BargeENI,
		VisitID: a.VisitID, WindowFrom: a.WindowFrom, WindowTo: a.WindowTo}
	if (a.WindowFrom != nil && now.Before(*a.WindowFrom)) || (a.WindowTo != nil && !now.Before(*a.WindowTo)) {
		ans.Reasons = append(ans.Reasons, "Assignment: outside the pick-up window")
	}
	key := release.GuardKey(rel.ReleaseID, a.Seq)
	guard := st.Guards[key]
	failed := false
	given := 0
	if guard.Locked {
		// Whatever is shown: identifiers count towards the lock too, so a lock stops them as well.
		ans.Reasons = append(ans.Reasons, "Pin: locked after repeated failures; the transport operator must assign again")
	}
	if req.PickupPin != "" {
		given++
		if !guard.Locked && !release.PinMatches(rel.ReleaseID, a, req.PickupPin) {
			ans.Reasons = append(ans.Reasons, "Pin: mismatch")
			failed = true
		}
	}
	for _, id := range []struct{ name, given, want string }{
		{"driverId", req.DriverID, a.DriverID}, {"licensePlate", req.LicensePlate, a.LicensePlate},
		{"bargeEni", req.BargeENI, a.BargeENI}, {"visitId", req.VisitID, a.VisitID},
	} {
		if id.given == "" {
			continue
		}
		given++
		if fold(id.given) != fold(id.want) {
			ans.Reasons = append(ans.Reasons, fmt.Sprintf("Assignment: %s does not match", id.name))
			failed = true
		}
	}
	if given == 0 {
		ans.Reasons = append(ans.Reasons, "Identification: give the pickupPin or the assignment's identifiers")
	}
	ans.Allowed = len(ans.Reasons) == 0
	v := Verdict{Answer: ans}
	if failed && !guard.Locked {
		next := release.PinGuard{Version: guard.Version + 1}
		for _, f := range guard.Failures {
			if now.Sub(f) < PinWindow {
				next.Failures = append(next.Failures, f)
			}
		}
		next.Failures = append(next.Failures, now)
		if len(next.Failures) > MaxPinFailures {
			next.Failures = next.Failures[len(next.Failures)-MaxPinFailures:]
		}
		next.Locked = len(next.Failures) >= MaxPinFailures
		v.Guard = &GuardWrite{Key: key, Next: next}
	}
	return v, nil
}

// fold compares identifiers as people write them: case, spaces, dots, dashes and slashes do not
// matter ("1-ABC-123" is "1 abc 123").
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToUpper(r)
		}
		return -1
	}, s)
}

func sharesBL(have, given []string) bool {
	for _, g := range given {
		for _, h := range have {
			if strings.EqualFold(strings.TrimSpace(g), h) {
				return true
			}
		}
	}
	return false
}

// Store is the gate's storage port (shared/store implements it).
type Store interface {
	ContainerState(ctx context.Context, port, container string) (release.ContainerState, error)
	RecordValidation(ctx context.Context, v Record, g *GuardWrite) error
	Entity(ctx context.Context, id string) (entity.Entity, error)
}

// ErrGuardChanged: another validation changed the PIN guard meanwhile; judge again.
var ErrGuardChanged = errors.New("the PIN guard changed concurrently")

// Handler serves the gate validation.
type Handler struct {
	Store Store
	Ports release.Ports
	Now   func() time.Time
}

// maxRejudge bounds the re-reads when concurrent validations of one assignment fail at once.
const maxRejudge = 4

// Handle serves POST /certified-pickup/v1/{portLoCode}/containers/{equipmentNumber}/pickup-validations.
func (h *Handler) Handle(ctx context.Context, r *apigw.Request) (apigw.Response, error) {
	caller, err := apigw.RequireCaller(r, entity.TerminalOperator)
	if err != nil {
		return apigw.Response{}, err
	}
	port, container := strings.ToUpper(r.PathParams["portLoCode"]), release.NormalizeContainer(r.PathParams["equipmentNumber"])
	var v problem.Validation
	if !release.ValidPortFormat(port) || !h.Ports[port] {
		v.Add("portLoCode", "'portLoCode' must be a port served by this platform.")
	}
	if !release.ValidContainerNumber(container) {
		v.Add("equipmentNumber", "'equipmentNumber' must be an ISO 6346 container number with a valid check digit.")
	}
	if err := v.Err(); err != nil {
		return apigw.Response{}, err
	}
	req, err := Decode(r.Body)
	if err != nil {
		return apigw.Response{}, err
	}
	for attempt := 0; attempt < maxRejudge; attempt++ {
		st, err := h.Store.ContainerState(ctx, port, container)
		if err != nil {
			return apigw.Response{}, problem.Wrap(err, "read the container")
		}
		var terminals []string
		if len(st.Releases) == 0 && st.Visit.TerminalCode != "" {
			me, err := h.Store.Entity(ctx, caller.EntityID)
			if err != nil {
				return apigw.Response{}, problem.Wrap(err, "read caller")
			}
			terminals = me.TerminalCodes
		}
		now := h.Now().UTC()
		verdict, err := Judge(st, req, caller.EntityID, terminals, now)
		if errors.Is(err, ErrOtherTerminal) {
			return apigw.Response{}, problem.New(problem.KindUnauthorized, "the container is not at a terminal you operate")
		}
		if len(st.Releases) == 0 && st.Visit.TerminalCode == "" {
			// Nothing is known of the container at any terminal: nothing to keep in its history.
			return apigw.JSON(http.StatusOK, verdict.Answer)
		}
		rec := Record{ID: uuid.NewString(), PortLoCode: port, EquipmentNumber: container, At: now, By: caller.EntityID,
			ReleaseID: verdict.Answer.ReleaseID, PinGiven: req.PickupPin != "", Identifiers: identifiersGiven(req),
			Allowed: verdict.Answer.Allowed, Reasons: verdict.Answer.Reasons}
		switch err := h.Store.RecordValidation(ctx, rec, verdict.Guard); {
		case err == nil:
			return apigw.JSON(http.StatusOK, verdict.Answer)
		case !errors.Is(err, ErrGuardChanged):
			return apigw.Response{}, problem.Wrap(err, "record the validation")
		}
	}
	return apigw.Response{}, problem.New(problem.KindInternal, "the container's PIN guard kept changing; try again")
}

func identifiersGiven(r Request) []string {
	var out []string
	for _, id := range []struct{ name, v string }{{"driverId", r.DriverID}, {"licensePlate", r.LicensePlate}, {"bargeEni", r.BargeENI}, {"visitId", r.VisitID}} {
		if id.v != "" {
			out = append(out, id.name)
		}
	}
	return out
}
