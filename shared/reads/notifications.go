package reads

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/secretbox"
)

// Reader is the storage port of E7.
type Reader interface {
	QueryNotifications(ctx context.Context, q notification.Query) (notification.Page, error)
	SentUnder(ctx context.Context, receiver, ref, releaseID string, from, to time.Time) (notification.Sent, error)
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// NotificationFilters are E7's validated query parameters.
type NotificationFilters struct {
	Event, Equipment, PublicRef, ReleaseID string
	Day                                    *time.Time
	WindowFrom, WindowTo                   time.Duration
	HasWindow                              bool
	// After is where a previous page stopped (its pageToken, decoded).
	After string
}

// ParseNotificationFilters validates E7's parameters (names matched case-insensitively): at least one, every
// rule broken named by its field.
func ParseNotificationFilters(params map[string][]string) (NotificationFilters, error) {
	var f NotificationFilters
	var v problem.Validation
	get := func(name string) string {
		for k, vals := range params {
			if strings.EqualFold(k, name) && len(vals) > 0 {
				return strings.TrimSpace(vals[len(vals)-1])
			}
		}
		return ""
	}
	given := false
	if e := get("notificationEvent"); e != "" {
		given = true
		for _, x := range notification.Events {
			if strings.EqualFold(x, e) {
				f.Event = x
			}
		}
		if f.Event == "" {
			v.Add("notificationEvent", "'notificationEvent' must be one of %s.", strings.Join(notification.Events, ", "))
		}
	}
	if c := get("equipmentNumber"); c != "" {
		given = true
		f.Equipment = release.NormalizeContainer(c)
		if !release.ValidContainerNumber(f.Equipment) {
			v.Add("equipmentNumber", "'equipmentNumber' must be an ISO 6346 container number with a valid check digit.")
		}
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"publicReferenceId", &f.PublicRef}, {"releaseId", &f.ReleaseID}} {
		if val := get(p.name); val != "" {
			given = true
			id, err := uuid.Parse(val)
			if err != nil {
				v.Add(p.name, "'%s' must be a GUID.", p.name)
				continue
			}
			*p.dst = id.String()
		}
	}
	if s := get("storedOn"); s != "" {
		given = true
		var day time.Time
		var err error
		if len(s) == len("2006-01-02") {
			day, err = time.Parse("2006-01-02", s)
		} else {
			day, err = time.Parse(time.RFC3339Nano, s)
		}
		if err != nil {
			v.Add("storedOn", "'storedOn' must be a date (2026-04-08) or an RFC 3339 timestamp.")
		} else {
			d := day.UTC().Truncate(24 * time.Hour)
			f.Day = &d
		}
	}
	from, to := get("timeWindowFrom"), get("timeWindowTo")
	if from != "" || to != "" {
		given = true
		switch {
		case from == "" || to == "":
			v.Add("timeWindowFrom", "'timeWindowFrom' and 'timeWindowTo' must be given together.")
		case !hhmm.MatchString(from):
			v.Add("timeWindowFrom", "'timeWindowFrom' must be a time HH:mm.")
		case !hhmm.MatchString(to):
			v.Add("timeWindowTo", "'timeWindowTo' must be a time HH:mm.")
		case to < from:
			v.Add("timeWindowTo", "'timeWindowTo' may not be earlier than 'timeWindowFrom'.")
		case f.Day == nil && !v.Has("storedOn"):
			v.Add("storedOn", "'storedOn' is required with a time window: the window narrows that day.")
		default:
			f.HasWindow = true
			f.WindowFrom, f.WindowTo = clock(from), clock(to)+time.Minute
		}
	}
	if tok := get(pageTokenParam); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		// A token is a position in the caller's own notifications (it never names a receiver), so a
		// forged one can only move within them.
		if len(tok) > maxPageTokenChars || err != nil || !validPosition(string(raw)) {
			v.Add(pageTokenParam, "'pageToken' is not a token this API gave; take it from the Link header of the previous page.")
		}
		f.After = string(raw)
	}
	if !given {
		v.Add("SearchFilter", "At least one of notificationEvent, equipmentNumber, publicReferenceId, releaseId, storedOn must be given.")
	}
	return f, v.Err()
}

func clock(hm string) time.Duration {
	t, _ := time.Parse("15:04", hm)
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}

// Notifications serves E7 for the caller's own notifications: every match inside the 168 hours,
// newest first, a page at a time. The body is the seed's plain array; when more match than one
// page holds, a Link header (RFC 8288, rel="next") carries the URL of the next page, whose
// pageToken continues from where this page stopped. Clients that ignore the header see the newest
// page, as before.
//
// The holder's Assign notification holds its pick-up PIN sealed; pins opens it for the answer.
func Notifications(r Reader, now func() time.Time, pins secretbox.Box, log *slog.Logger) apigw.Handler {
	return func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		caller, err := apigw.RequireCaller(req)
		if err != nil {
			return apigw.Response{}, err
		}
		f, err := ParseNotificationFilters(req.Query)
		if err != nil {
			return apigw.Response{}, err
		}
		t := now().UTC()
		q := notification.Query{Receiver: caller.EntityID, From: t.Add(-notification.Retention), To: t.Add(time.Second), Event: f.Event, Equipment: f.Equipment,
			PublicRef: f.PublicRef, ReleaseID: f.ReleaseID, Before: f.After, Limit: notification.MaxResults, MaxBytes: notification.MaxPageBytes}
		if f.Day != nil {
			lo, hi := *f.Day, f.Day.Add(24*time.Hour)
			if f.HasWindow {
				lo, hi = f.Day.Add(f.WindowFrom), f.Day.Add(f.WindowTo)
			}
			q.From, q.To = later(q.From, lo), earlier(q.To, hi)
		}
		var page notification.Page
		if q.From.Before(q.To) {
			if page, err = r.QueryNotifications(ctx, q); err != nil {
				return apigw.Response{}, problem.Wrap(err, "query notifications")
			}
		}
		if len(page.Items) == 0 {
			return apigw.Response{}, nothingFor(ctx, r, q)
		}
		for i := range page.Items {
			failed, err := notification.RevealPin(ctx, pins, &page.Items[i])
			if err != nil {
				return apigw.Response{}, problem.Wrap(err, "open a pick-up PIN")
			}
			if failed {
				log.ErrorContext(ctx, "a sealed pick-up PIN did not open; the holder is told to assign again", "publicReferenceId", page.Items[i].PublicReferenceID)
			}
		}
		resp, err := apigw.JSON(http.StatusOK, page.Items)
		if err == nil && page.Next != "" {
			resp.Headers["Link"] = apigw.NextLink(req, pageTokenParam, page.Next)
		}
		return resp, err
	}
}

// nothingFor tells why nothing matched: 403 when the reference or release asked for has
// notifications inside the 168 hours but none went to the caller (the seed: "not sent to your
// company"), 405 otherwise, also when the caller's own notifications exist but other filters
// exclude them.
func nothingFor(ctx context.Context, r Reader, q notification.Query) error {
	for _, by := range []struct{ ref, release string }{{q.PublicRef, ""}, {"", q.ReleaseID}} {
		if by.ref == "" && by.release == "" {
			continue
		}
		sent, err := r.SentUnder(ctx, q.Receiver, by.ref, by.release, q.From, q.To)
		if err != nil {
			return problem.Wrap(err, "look up the reference")
		}
		if sent.ToAnyone && !sent.ToCaller {
			return &problem.Error{Kind: problem.KindForbidden, Detail: "The notifications you asked for were not sent to your company.",
				Headers: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}}
		}
	}
	return problem.New(problem.KindMethod, "No matching notifications found; check your query parameters.")
}

// pageTokenParam continues a listing; its value is opaque to clients.
const pageTokenParam = "pageToken"

// maxPageTokenChars bounds the token (a sort key, base64url-encoded, is about 150 characters).
const maxPageTokenChars = 512

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// validPosition checks that a decoded page token is a notification's sort key: a storedOn time,
// a reference and a sequence.
func validPosition(pos string) bool {
	ts, rest, ok := strings.Cut(pos, "#")
	if !ok || rest == "" {
		return false
	}
	_, err := time.Parse("2006-01-02T15:04:05.000000000Z", ts)
	return err == nil && release.Plain(rest)
}
