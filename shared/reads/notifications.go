package reads

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
)

// Reader is the storage port of E7.
type Reader interface {
	QueryNotifications(ctx context.Context, q notification.Query) ([]notification.Notification, error)
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// NotificationFilters are E7's validated query parameters.
type NotificationFilters struct {
	Event, Equipment, PublicRef, ReleaseID string
	Day                                    *time.Time
	WindowFrom, WindowTo                   time.Duration
	HasWindow                              bool
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
	if !given {
		v.Add("SearchFilter", "At least one of notificationEvent, equipmentNumber, publicReferenceId, releaseId, storedOn must be given.")
	}
	return f, v.Err()
}

func clock(hm string) time.Duration {
	t, _ := time.Parse("15:04", hm)
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}

// Notifications serves E7 for the caller's own notifications.
func Notifications(r Reader, now func() time.Time) apigw.Handler {
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
			PublicRef: f.PublicRef, ReleaseID: f.ReleaseID, Limit: notification.MaxResults}
		if f.Day != nil {
			lo, hi := *f.Day, f.Day.Add(24*time.Hour)
			if f.HasWindow {
				lo, hi = f.Day.Add(f.WindowFrom), f.Day.Add(f.WindowTo)
			}
			q.From, q.To = later(q.From, lo), earlier(q.To, hi)
		}
		var found []notification.Notification
		if q.From.Before(q.To) {
			if found, err = r.QueryNotifications(ctx, q); err != nil {
				return apigw.Response{}, problem.Wrap(err, "query notifications")
			}
		}
		// Reads filter what TTL has not removed yet, and the index queries everything else.
		var mine []notification.Notification
		anyLive := false
		for _, n := range found {
			if n.StoredOn.Before(q.From) || !n.StoredOn.Before(q.To) {
				continue
			}
			anyLive = true
			if n.NxtEntityID == caller.EntityID && (f.Event == "" || n.Event == f.Event) && (f.Equipment == "" || n.EquipmentNumber == f.Equipment) &&
				(f.ReleaseID == "" || n.ReleaseID == f.ReleaseID) && (f.PublicRef == "" || n.PublicReferenceID == f.PublicRef) {
				mine = append(mine, n)
			}
		}
		if len(mine) == 0 {
			if anyLive && (f.PublicRef != "" || f.ReleaseID != "") {
				// The seed: the notification exists but was not sent to your company.
				return apigw.Response{}, &problem.Error{Kind: problem.KindForbidden, Detail: "The notifications you asked for were not sent to your company.",
					Headers: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}}
			}
			return apigw.Response{}, problem.New(problem.KindMethod, "No matching notifications found; check your query parameters.")
		}
		sort.SliceStable(mine, func(i, j int) bool { return mine[i].StoredOn.After(mine[j].StoredOn) })
		return apigw.JSON(http.StatusOK, mine)
	}
}

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
