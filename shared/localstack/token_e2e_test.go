package localstack_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/onboarding"
	"github.com/portcommunity/cpu/shared/store"
)

// TestTokenSlowDownThroughTheStack: through the gateway and the real token function, wrong secrets
// from one address answer 401 until the fifth; a right secret before that gets a token; after five
// failures the client is slowed down from that address with 429 problem+json, Retry-After and
// OAuth's temporarily_unavailable.
func TestTokenSlowDownThroughTheStack(t *testing.T) {
	api := startStack(t)
	// A client of its own, issued as `cpuadmin issue` does on the local stack: with the run's
	// client-secret key from stack.json. Its failures slow down no other test's client.
	raw, err := os.ReadFile(stackState)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(stackState); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stack.json holds the client-secret key but is not private: %v %v", fi.Mode(), err)
	}
	var state localstack.State
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	_, keyValue, err := identity.SplitSecretKeySetting(state.ClientSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := identity.SecretHasherFromLocal(keyValue)
	if err != nil {
		t.Fatal(err)
	}
	db := (&localstack.Backends{DynamoEndpoint: state.DynamoEndpoint}).DynamoDB()
	svc := onboarding.Service{Store: store.New(db, state.Table), Secrets: secrets, Plan: onboarding.NoUsagePlan{}, Environment: state.Stage, Now: time.Now}
	issued, err := svc.Issue(context.Background(), seedFile.Entities[3].NxtEntityID)
	if err != nil {
		t.Fatal(err)
	}
	try := func(secret string) answer {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {issued.Client.ClientID}, "client_secret": {secret}}
		return call(t, "POST", api+"/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	}
	const wrong = "wrong-secret-wrong-secret-0000"
	for i := 1; i < identity.FailuresAllowed; i++ {
		if a := try(wrong); a.status != 401 || a.body["error"] != "invalid_client" {
			t.Fatalf("wrong secret %d: %d %v", i, a.status, a.body)
		}
	}
	if a := try(issued.ClientSecret); a.status != 200 || a.body["token_type"] != "Bearer" {
		t.Fatalf("right secret before the threshold: %d %v", a.status, a.body)
	}
	// The success cleared the four; five more failures reach the threshold.
	for i := 1; i <= identity.FailuresAllowed; i++ {
		if a := try(wrong); a.status != 401 {
			t.Fatalf("wrong secret %d after the success: %d %v", i, a.status, a.body)
		}
	}
	// The first block lasts a second; a slow machine may let a call through after it, which then
	// doubles the block. So try until the stack answers 429, and fail if it never does.
	var a answer
	for i := 0; i < 10; i++ {
		if a = try(wrong); a.status != 401 {
			break
		}
	}
	retry, _ := strconv.Atoi(a.header.Get("Retry-After"))
	if a.status != 429 || retry < 1 || retry > int(identity.FailureWindow.Seconds()) || a.header.Get("Content-Type") != "application/problem+json" ||
		a.body["error"] != "temporarily_unavailable" || a.body["status"] != 429.0 {
		t.Fatalf("after repeated failures: %d Retry-After=%q %v", a.status, a.header.Get("Retry-After"), a.body)
	}
	// Other clients are not affected.
	token(t, api, 3)
}
