package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/problem"
)

func TestLambdaAdapter(t *testing.T) {
	var seen *Request
	h := Lambda(func(_ context.Context, r *Request) (Response, error) {
		seen = r
		if r.Header("X-Fail") == "validation" {
			var v problem.Validation
			v.Add("equipmentNumber", "bad check digit")
			return Response{}, v.Err()
		}
		if r.Header("X-Fail") == "boom" {
			return Response{}, io.ErrUnexpectedEOF
		}
		return JSON(200, map[string]string{"ok": "yes"})
	}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Headers: map[string]string{"External-Reference-Id": "r1"},
		Body: base64.StdEncoding.EncodeToString([]byte("hello")), IsBase64Encoded: true,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-1", Authorizer: map[string]any{CtxEntityID: "NXT1", CtxRoles: "ShippingAgent,Nonsense"}},
	}
	resp, err := h(ctx, ev)
	if err != nil || resp.StatusCode != 200 || string(seen.Body) != "hello" || *seen.ExternalRef != "r1" {
		t.Fatalf("%v %+v", err, resp)
	}
	if seen.Caller == nil || seen.Caller.EntityID != "NXT1" || len(seen.Caller.Roles) != 1 || !seen.Caller.HasAnyRole(entity.ShippingAgent) {
		t.Fatalf("caller %+v", seen.Caller)
	}

	ev.Headers["X-Fail"] = "validation"
	resp, _ = h(ctx, ev)
	var doc map[string]any
	json.Unmarshal([]byte(resp.Body), &doc)
	if resp.StatusCode != 400 || resp.Headers["Content-Type"] != problem.ContentType || doc["traceId"] != "req-1" || doc["errors"] == nil {
		t.Fatalf("validation: %+v", resp)
	}

	ev.Headers["X-Fail"] = "boom"
	resp, err = h(ctx, ev)
	if err != nil || resp.StatusCode != 500 || strings.Contains(resp.Body, "EOF") {
		t.Fatalf("internal errors must not leak: %+v", resp)
	}

	ev.Headers["X-Fail"] = ""
	ev.IsBase64Encoded = false
	ev.Body = strings.Repeat("x", catalog.MaxBodyBytes+1)
	if resp, _ = h(ctx, ev); resp.StatusCode != 413 {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}
	ev.Body, ev.IsBase64Encoded = "%%%", true
	if resp, _ = h(ctx, ev); resp.StatusCode != 400 {
		t.Fatalf("bad base64: %d", resp.StatusCode)
	}
}

// TestExternalReferenceIdIsCheckedBeforeTheHandler: a value that could not be echoed in every
// notification is a 400 naming the header; the handler never runs.
func TestExternalReferenceIdIsCheckedBeforeTheHandler(t *testing.T) {
	ran := false
	h := Lambda(func(_ context.Context, r *Request) (Response, error) {
		ran = true
		return JSON(202, map[string]string{})
	}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	for name, c := range map[string]struct {
		ref    string
		status int
	}{
		"100 characters":   {strings.Repeat("ü", MaxExternalRefChars), 202},
		"101 characters":   {strings.Repeat("ü", MaxExternalRefChars+1), 400},
		"control":          {"ref\x01", 400},
		"not UTF-8":        {"ref\xff", 400},
		"emoji is text":    {"order 🚢 42", 202},
		"empty is allowed": {"", 202},
	} {
		ran = false
		resp, _ := h(context.Background(), events.APIGatewayProxyRequest{Headers: map[string]string{"External-Reference-Id": c.ref}})
		var doc map[string]any
		json.Unmarshal([]byte(resp.Body), &doc)
		if resp.StatusCode != c.status || ran != (c.status == 202) {
			t.Errorf("%s: %d, handler ran %v", name, resp.StatusCode, ran)
		}
		if c.status == 400 && doc["errors"].(map[string]any)[ExternalRefHeader] == nil {
			t.Errorf("%s: the error does not name the header: %v", name, doc)
		}
	}
}
