// Package problem holds the platform's typed errors and the one place where they become HTTP
// answers: application/problem+json (RFC 9457) with type, title, status, detail, traceId and, for
// validation, errors {field: [messages]} as the seed's registry example shows.
package problem

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
)

// Kind classifies an error; each kind has exactly one HTTP status.
type Kind int

const (
	KindInternal      Kind = iota // 500: unexpected; the caller may retry
	KindValidation                // 400: a field broke a rule
	KindBadRequest                // 400: malformed request (not tied to one field)
	KindUnauthorized              // 401: no or bad credentials, or the caller lacks the role (the seed uses 401)
	KindForbidden                 // 403: only E7 (notifications not sent to the caller)
	KindNotFound                  // 404: unknown route
	KindMethod                    // 405: wrong method, or the seed's other 405 cases
	KindTooLarge                  // 413: body over 1 MiB
	KindRateLimited               // 429: over the usage plan
	KindUnprocessable             // 422: an Idempotency-Key reused for another request
	KindConflict                  // 409: the action does not fit the resource's state (replay to a disabled channel)
)

var statusOf = map[Kind]int{
	KindInternal:      http.StatusInternalServerError,
	KindValidation:    http.StatusBadRequest,
	KindBadRequest:    http.StatusBadRequest,
	KindUnauthorized:  http.StatusUnauthorized,
	KindForbidden:     http.StatusForbidden,
	KindNotFound:      http.StatusNotFound,
	KindMethod:        http.StatusMethodNotAllowed,
	KindTooLarge:      http.StatusRequestEntityTooLarge,
	KindRateLimited:   http.StatusTooManyRequests,
	KindUnprocessable: http.StatusUnprocessableEntity,
	KindConflict:      http.StatusConflict,
}

var titleOf = map[Kind]string{
	KindInternal:      "An unexpected error occurred.",
	KindValidation:    "One or more validation errors occurred.",
	KindBadRequest:    "The request is malformed.",
	KindUnauthorized:  "Unauthorized.",
	KindForbidden:     "Forbidden.",
	KindNotFound:      "Not found.",
	KindMethod:        "Method not allowed.",
	KindTooLarge:      "Payload too large.",
	KindRateLimited:   "Too many requests.",
	KindUnprocessable: "Unprocessable content.",
	KindConflict:      "Conflict.",
}

// Error is a typed platform error. Fields holds validation messages per field.
type Error struct {
	Kind   Kind
	Detail string
	Fields map[string][]string
	// RetryAfterSeconds is sent as Retry-After on 429.
	RetryAfterSeconds int
	// Extra members added to the problem body (e.g. OAuth's "error").
	Extra map[string]string
	// Headers added to the answer (e.g. WWW-Authenticate on E7's 403).
	Headers map[string]string
	cause   error
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return fmt.Sprintf("%s: %s %v", titleOf[e.Kind], keys[0], e.Fields[keys[0]])
	}
	if e.Detail != "" {
		return e.Detail
	}
	return titleOf[e.Kind]
}

func (e *Error) Unwrap() error { return e.cause }

// Status is the HTTP status of the error's kind.
func (e *Error) Status() int { return statusOf[e.Kind] }

// Title is the problem title of the error's kind.
func (e *Error) Title() string { return titleOf[e.Kind] }

// New makes an error of a kind with a detail.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Wrap makes an internal error that keeps its cause for the logs; the caller sees only the title.
func Wrap(cause error, format string, args ...any) *Error {
	return &Error{Kind: KindInternal, Detail: fmt.Sprintf(format, args...), cause: cause}
}

// Field is a validation error of one field.
func Field(field, format string, args ...any) error {
	var v Validation
	v.Add(field, format, args...)
	return v.Err()
}

// Validation accumulates field errors; Err returns nil when none were added.
type Validation struct {
	fields map[string][]string
}

// Add records that field broke a rule.
func (v *Validation) Add(field, format string, args ...any) {
	if v.fields == nil {
		v.fields = map[string][]string{}
	}
	v.fields[field] = append(v.fields[field], fmt.Sprintf(format, args...))
}

// Has tells whether field already has an error.
func (v *Validation) Has(field string) bool { return len(v.fields[field]) > 0 }

// Err is the accumulated *Error, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: KindValidation, Fields: v.fields}
}

// As returns err as *Error, wrapping anything untyped as internal.
func As(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return Wrap(err, "unexpected error")
}
