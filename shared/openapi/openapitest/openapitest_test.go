package openapitest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portcommunity/cpu/shared/openapi/openapitest"
)

const (
	guid     = "6b1f2e0a-4c3d-4e5f-8a9b-0c1d2e3f4a5b"
	ingest   = "http://127.0.0.1:9/ingestion/v1/ingestion/1d6e0000-0000-4000-8000-000000000001"
	e7       = "http://127.0.0.1:9/certified-pickup/v1/notifications?equipmentNumber=CSQU3054383"
	envelope = `{"publicReferenceId":"` + guid + `","externalReferenceId":null,"receiverId":"NXT200000001","senderId":null,` +
		`"timestamp":"2026-11-21T08:00:01Z","type":"ReleaseLight","event":"ReleaseLightChanged","errors":[],"warnings":[],` +
		`"body":{"portLoCode":"BEANR","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["BL1"],"releaseRight":{"currentHolder":"NXT200000001","status":1}}}`
	release = `{"actionType":"Release","releaseIdentification":"R","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["B"],"portLoCode":"BEANR",` +
		`"terminalCode":"01700","isCarrierHaulage":false,"releaseDateTimeUtc":"2026-11-21T08:00:00Z",` +
		`"carrier":{"identificationType":"NxtEntityId","identificationCode":"NXT200000001"}}`
	accepted = `{"publicReferenceId":"` + guid + `","externalReferenceId":null}`
)

func problem(status int) string {
	return fmt.Sprintf(`{"type":"https://tools.ietf.org/html/rfc9110","title":"t","status":%d,"detail":"d","traceId":"a"}`, status)
}

func notifications(msg string) string {
	m, _ := json.Marshal(msg)
	return `[{"nxtEntityId":"NXT200000001","equipmentNumber":"CSQU3054383","publicReferenceId":"` + guid + `","releaseId":"",` +
		`"externalReferenceId":null,"storedOn":"2026-11-21T08:00:01Z","message":` + string(m) + `,"type":"ReleaseLight","event":"ReleaseLightChanged"}]`
}

type exchange struct {
	method, url string
	headers     map[string]string
	reqBody     string
	status      int
	respHeaders map[string]string
	respBody    string
}

func (x exchange) check(t *testing.T) error {
	req := httptest.NewRequest(x.method, x.url, strings.NewReader(x.reqBody))
	for k, v := range x.headers {
		req.Header.Set(k, v)
	}
	h := http.Header{}
	for k, v := range x.respHeaders {
		h.Set(k, v)
	}
	return openapitest.Default(t).Check(req, []byte(x.reqBody), x.status, h, []byte(x.respBody))
}

var (
	keyed  = map[string]string{"Authorization": "Bearer t", "Ocp-Apim-Subscription-Key": "k"}
	json1  = map[string]string{"Content-Type": "application/json"}
	pjson  = map[string]string{"Content-Type": "application/problem+json"}
	bearer = map[string]string{"Authorization": "Bearer t", "Content-Type": "application/json"}
)

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestCheck: exchanges the document describes pass, and each kind of disagreement is caught.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    exchange
		want string // "" passes; else a part of the error
	}{
		{"E1 accepted", exchange{"POST", ingest, bearer, release, 202, json1, accepted}, ""},
		{"E1 accepted with the optional key", exchange{"POST", ingest, with(bearer, "Ocp-Apim-Subscription-Key", "k"), release, 202, json1, accepted}, ""},
		{"E1 without a token refused", exchange{"POST", ingest, json1, release, 401, pjson, problem(401)}, ""},
		{"E1 without a token accepted", exchange{"POST", ingest, json1, release, 202, json1, accepted}, "calls invalid"},
		{"E1 over a limit accepted", exchange{"POST", ingest, bearer, strings.Replace(release, `"R"`, `"`+strings.Repeat("r", 36)+`"`, 1), 202, json1, accepted}, "maxLength"},
		{"E1 Release without carrier accepted", exchange{"POST", ingest, bearer, strings.Replace(release, `,"carrier":{"identificationType":"NxtEntityId","identificationCode":"NXT200000001"}`, "", 1), 202, json1, accepted}, "missing property 'carrier'"},
		{"E1 Release without carrier refused", exchange{"POST", ingest, bearer, strings.Replace(release, `,"carrier":{"identificationType":"NxtEntityId","identificationCode":"NXT200000001"}`, "", 1), 400, pjson, problem(400)}, ""},
		{"E1 long Idempotency-Key accepted", exchange{"POST", ingest, with(bearer, "Idempotency-Key", strings.Repeat("k", 256)), release, 202, json1, accepted}, "Idempotency-Key"},
		{"E1 quoted Idempotency-Key", exchange{"POST", ingest, with(bearer, "Idempotency-Key", `"k-1"`), release, 202, json1, accepted}, ""},
		{"E1 idempotency conflict", exchange{"POST", ingest, with(bearer, "Idempotency-Key", "k-1"), release, 422, pjson, problem(422)}, ""},
		{"undocumented status", exchange{"POST", ingest, bearer, release, 409, pjson, problem(409)}, "status is not supported"},
		{"wrong status in the body", exchange{"POST", ingest, bearer, release, 400, pjson, problem(401)}, "/status"},
		{"JSON where problem+json is documented", exchange{"POST", ingest, bearer, release, 400, json1, problem(400)}, "Content-Type"},
		{"extra member in an answer", exchange{"POST", ingest, bearer, release, 202, json1, strings.Replace(accepted, "}", `,"x":1}`, 1)}, "additional properties"},
		{"429 without Retry-After", exchange{"GET", e7, keyed, "", 429, pjson, problem(429)}, "Retry-After"},
		{"429 with Retry-After", exchange{"GET", e7, keyed, "", 429, with(pjson, "Retry-After", "12"), problem(429)}, ""},
		{"E7 answer", exchange{"GET", e7, keyed, "", 200, json1, notifications(envelope)}, ""},
		{"E7 message not an envelope", exchange{"GET", e7, keyed, "", 200, json1, notifications(strings.Replace(envelope, `"status":1`, `"status":7`, 1))}, "message"},
		{"E7 message not JSON", exchange{"GET", e7, keyed, "", 200, json1, notifications("{")}, "not JSON"},
		{"E7 next page", exchange{"GET", e7, keyed, "", 200, with(json1, "Link", `</certified-pickup/v1/notifications?equipmentNumber=CSQU3054383&pageToken=abc>; rel="next"`), notifications(envelope)}, ""},
		{"E7 malformed Link", exchange{"GET", e7, keyed, "", 200, with(json1, "Link", `<x>; rel=next`), notifications(envelope)}, "Link"},
		{"E7 403 without WWW-Authenticate", exchange{"GET", e7, keyed, "", 403, pjson, problem(403)}, "WWW-Authenticate"},
		{"unknown path", exchange{"GET", "http://127.0.0.1:9/certified-pickup/v1/nowhere", keyed, "", 404, pjson, problem(404)}, ""},
		{"unknown path answered", exchange{"GET", "http://127.0.0.1:9/certified-pickup/v1/nowhere", keyed, "", 200, json1, "{}"}, "404"},
		{"other method", exchange{"DELETE", "http://127.0.0.1:9/certified-pickup/v1/entities", keyed, "", 405, with(pjson, "Allow", "GET"), problem(405)}, ""},
		{"other method without Allow", exchange{"DELETE", "http://127.0.0.1:9/certified-pickup/v1/entities", keyed, "", 405, pjson, problem(405)}, "Allow"},
	} {
		err := tc.x.check(t)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && err == nil:
			t.Errorf("%s: passed, want an error about %q", tc.name, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

func TestMessage(t *testing.T) {
	v := openapitest.Default(t)
	if err := v.Message(envelope); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{
		strings.Replace(envelope, `"event":"ReleaseLightChanged"`, `"event":"Changed"`, 1),
		strings.Replace(envelope, `"errors":[],`, ``, 1),
		strings.Replace(envelope, `"portLoCode"`, `"port"`, 1),
		`[]`,
	} {
		if v.Message(bad) == nil {
			t.Errorf("passed: %s", bad)
		}
	}
}

// recorder is a testing.TB that keeps what Errorf reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestTransport: a client's answers are checked and handed on unchanged, request bodies included.
func TestTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("broken") != "" || !strings.Contains(string(body), "CSQU3054383") {
			w.WriteHeader(http.StatusTeapot)
		} else {
			w.WriteHeader(http.StatusAccepted)
		}
		io.WriteString(w, accepted)
	}))
	defer srv.Close()
	rec := &recorder{TB: t}
	client := &http.Client{Transport: openapitest.Transport(rec, nil)}
	for _, q := range []string{"", "?broken=1"} {
		req, _ := http.NewRequest("POST", srv.URL+"/ingestion/v1/ingestion/1d6e0000-0000-4000-8000-000000000001"+q, strings.NewReader(release))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != accepted {
			t.Errorf("body handed on: %q", body)
		}
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "418") {
		t.Errorf("reported: %q", rec.errs)
	}
}
