package openapitest

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// Transport wraps base (http.DefaultTransport when nil) so that every exchange is checked against
// the document; a mismatch is reported to tb with Errorf, and the answer is handed on unchanged.
func Transport(tb testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{tb: tb, v: Default(tb), base: base}
}

// Client is an http.Client whose every answer is checked against the document (see Transport).
func Client(tb testing.TB) *http.Client {
	return &http.Client{Transport: Transport(tb, nil)}
}

// CheckMessage reports to tb when msg (E7's message) is not a NotificationEnvelope.
func CheckMessage(tb testing.TB, msg string) {
	tb.Helper()
	if err := Default(tb).Message(msg); err != nil {
		tb.Errorf("openapi: notification message: %v\n%s", err, msg)
	}
}

type transport struct {
	tb   testing.TB
	v    *Validator
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	// RoundTrip may consume the caller's request body but not change the request: send a copy.
	sent := req.Clone(req.Context())
	sent.Body = io.NopCloser(bytes.NewReader(reqBody))
	sent.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	resp, err := t.base.RoundTrip(sent)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := t.v.Check(sent, reqBody, resp.StatusCode, resp.Header, body); err != nil {
		t.tb.Errorf("openapi: %s %s answered %d: %v\nbody: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, err, clip(body))
	}
	return resp, nil
}

// clip keeps a failure message readable when the body is large.
func clip(b []byte) []byte {
	if len(b) > 2000 {
		return append(b[:2000:2000], "…"...)
	}
	return b
}
