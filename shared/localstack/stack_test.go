package localstack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/openapi"
	"github.com/portcommunity/cpu/shared/openapi/openapitest"
)

// stack is one local stack for the package's end-to-end tests, started like `make run` does, with
// fresh host builds of every function.
var (
	stackOnce sync.Once
	stackAPI  string
	stackErr  error
	seedFile  localstack.SeedFile
	// stackState is the running stack's stack.json (what the support tooling reads).
	stackState string
)

func startStack(t *testing.T) string {
	t.Helper()
	stackOnce.Do(func() {
		var s *e2eStack
		// The retry schedule two thousand times faster: 2.5 ms, 0.15 s, 0.9 s, 3.6 s, 9 s, 18 s, 18 s
		// (each at least the second SQS counts in), so a dead delivery fails in about a minute.
		s, stackErr = launchStack(t, map[string]string{"DELIVERY_TIMING_SCALE": "0.0005"})
		if stackErr == nil {
			stackAPI, stackState, stopStack = s.api, s.state, s.stop
		}
	})
	if stackErr != nil {
		t.Fatalf("local stack: %v", stackErr)
	}
	return stackAPI
}

// The functions are built once per test binary, for every stack it starts.
var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

// e2eStack is a local stack started like `make run` does, with fresh host builds of every function.
type e2eStack struct {
	api, state, bin string
	stop            func()
}

// launchStack builds the functions (once per test binary) and starts a stack whose functions get
// the env overrides; the caller stops it.
func launchStack(t *testing.T, env map[string]string) (*e2eStack, error) {
	root, err := localstack.FindRoot()
	if err != nil {
		return nil, err
	}
	// Not t.TempDir: that goes when the first test ends, and the stack serves them all.
	dir, err := os.MkdirTemp("", "cpu-e2e-")
	if err != nil {
		return nil, err
	}
	buildOnce.Do(func() {
		bin := filepath.Join(os.TempDir(), "cpu-e2e-bin-"+strconv.Itoa(os.Getpid()))
		build := exec.Command("go", "build", "-o", bin+"/", "./functions/...")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Log(string(out))
			buildErr = err
		}
		builtDir = bin
	})
	if buildErr != nil {
		return nil, buildErr
	}
	// Each stack its own links to the binaries, so a test can tell its stack's processes apart.
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(builtDir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := os.Link(filepath.Join(builtDir, e.Name()), filepath.Join(bin, e.Name())); err != nil {
			return nil, err
		}
	}
	port, _ := localstack.FreePort()
	cfg := localstack.Config{
		Root: root, ToolsDir: filepath.Join(root, ".tools"), BinDir: bin,
		StateDir: filepath.Join(dir, "state"), Addr: "127.0.0.1:" + strconv.Itoa(port),
		SeedFile: filepath.Join(root, "events", "local", "seed.json"), Instances: 2, Env: env,
	}
	if seedFile, err = localstack.ReadSeed(cfg.SeedFile); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- localstack.Run(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil))) }()
	s := &e2eStack{api: "http://" + cfg.Addr, state: filepath.Join(cfg.StateDir, "stack.json"), bin: cfg.BinDir,
		stop: func() { cancel(); <-done; os.RemoveAll(dir) }}
	// Ready is the health endpoint answering 200; a stack that exits first reports why.
	healthy := func() bool {
		resp, err := http.Get(s.api + "/_local/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	expired := time.After(90 * time.Second)
	for !healthy() {
		select {
		case err := <-done:
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			os.RemoveAll(dir)
			return nil, err
		case <-expired:
			s.stop()
			return nil, context.DeadlineExceeded
		case <-tick.C:
		}
	}
	return s, nil
}

var stopStack = func() {}

// The isolated stack serves the sequential tests that would disturb the shared one (the soak's
// load, killing functions): the schedule a hundred times faster (5 s → 50 ms, 5 min → 3 s), the
// cap on deliveries a second to one channel lifted to 1,000.
var (
	isolatedOnce sync.Once
	isolated     *e2eStack
	isolatedErr  error
)

func isolatedStack(t *testing.T) *e2eStack {
	t.Helper()
	isolatedOnce.Do(func() {
		isolated, isolatedErr = launchStack(t, map[string]string{"DELIVERY_TIMING_SCALE": "0.01", "DELIVERY_RATE_PER_SECOND": "1000"})
	})
	if isolatedErr != nil {
		t.Fatalf("isolated stack: %v", isolatedErr)
	}
	return isolated
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopStack()
	if isolated != nil {
		isolated.stop()
	}
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

type answer struct {
	status  int
	header  http.Header
	body    map[string]any
	rawBody []byte
}

// call makes one request through the stack; its answer is checked against the OpenAPI document (a
// mismatch fails the test).
func call(t *testing.T, method, u string, headers map[string]string, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := openapitest.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, rawBody: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func token(t *testing.T, api string, i int) string {
	t.Helper()
	c := seedFile.Entities[i].Credentials
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	a := call(t, "POST", api+"/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	if a.status != 200 || a.body["token_type"] != "Bearer" || a.body["expires_in"] != 3600.0 {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	return a.body["access_token"].(string)
}

func TestTokenEndpoint(t *testing.T) {
	api := startStack(t)
	token(t, api, 0)
	form := func(v url.Values) string { return v.Encode() }
	ct := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	c := seedFile.Entities[0].Credentials
	for _, tc := range []struct {
		name   string
		body   string
		status int
		err    string
	}{
		{"wrong secret", form(url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {"wrong-secret-0000000"}}), 401, "invalid_client"},
		{"unknown client", form(url.Values{"grant_type": {"client_credentials"}, "client_id": {"nobody"}, "client_secret": {"whatever-secret-000"}}), 401, "invalid_client"},
		{"other grant", form(url.Values{"grant_type": {"password"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}), 400, "unsupported_grant_type"},
		{"no grant", form(url.Values{"client_id": {c.ClientID}}), 400, "invalid_request"},
	} {
		a := call(t, "POST", api+"/oauth2/token", ct, tc.body)
		if a.status != tc.status || a.body["error"] != tc.err || a.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %v", tc.name, a.status, a.body)
		}
	}
	// HTTP Basic client authentication (RFC 6749 §2.3.1) works too.
	req, _ := http.NewRequest("POST", api+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ClientID, c.ClientSecret)
	resp, err := openapitest.Client(t).Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("basic auth: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

func TestRegistryThroughTheGateway(t *testing.T) {
	api := startStack(t)
	tok := token(t, api, 4) // a release party
	key := seedFile.Entities[4].Credentials.SubscriptionKey
	auth := map[string]string{"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": key, "External-Reference-Id": "ext-42"}

	a := call(t, "GET", api+"/certified-pickup/v1/entities?entityName=TERMINAL", auth, "")
	if a.status != 200 || a.body["totalRows"] != 2.0 || a.body["externalReferenceId"] != "ext-42" {
		t.Fatalf("search: %d %v", a.status, a.body)
	}
	a = call(t, "GET", api+"/certified-pickup/v1/entities?VAT="+seedFile.Entities[2].VAT+"&entityName=deurganck", auth, "")
	if a.status != 200 || a.body["totalRows"] != 1.0 {
		t.Fatalf("AND: %d %v", a.status, a.body)
	}
	// The two authorities of the seed (customs, police) are registered and can call the API.
	auTok := token(t, api, 8)
	au := call(t, "GET", api+"/certified-pickup/v1/entities?apcsCode=AU0002", map[string]string{"Authorization": "Bearer " + auTok,
		"Ocp-Apim-Subscription-Key": seedFile.Entities[8].Credentials.SubscriptionKey}, "")
	if au.status != 200 || au.body["totalRows"] != 1.0 || !strings.Contains(string(au.rawBody), "Federal Maritime Police") {
		t.Fatalf("an authority's registry call: %d %s", au.status, au.rawBody)
	}
	a = call(t, "GET", api+"/certified-pickup/v1/entities?entityName=a&page=0", auth, "")
	if a.status != 400 || a.body["errors"].(map[string]any)["Page"] == nil {
		t.Fatalf("page 0: %d %v", a.status, a.body)
	}
	a = call(t, "GET", api+"/certified-pickup/v1/entities", auth, "")
	if a.status != 400 {
		t.Fatalf("no filter: %d %v", a.status, a.body)
	}

	for name, h := range map[string]map[string]string{
		"no key":               {"Authorization": "Bearer " + tok},
		"no token":             {"Ocp-Apim-Subscription-Key": key},
		"bad token":            {"Authorization": "Bearer x.y.z", "Ocp-Apim-Subscription-Key": key},
		"unknown key":          {"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": "not-a-key-not-a-key-not-a-key"},
		"another entity's key": {"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": seedFile.Entities[0].Credentials.SubscriptionKey},
	} {
		a := call(t, "GET", api+"/certified-pickup/v1/entities?entityName=a", h, "")
		if a.status != 401 || a.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %v", name, a.status, a.body)
		}
	}
	if a := call(t, "GET", api+"/certified-pickup/v1/nowhere", auth, ""); a.status != 404 {
		t.Errorf("unknown route: %d", a.status)
	}
	if a := call(t, "DELETE", api+"/certified-pickup/v1/entities", auth, ""); a.status != 405 || a.header.Get("Allow") != "GET" {
		t.Errorf("wrong method: %d %v", a.status, a.header)
	}
}

// TestOpenAPIDocument: GET /openapi.json answers the embedded document without credentials.
func TestOpenAPIDocument(t *testing.T) {
	api := startStack(t)
	a := call(t, "GET", api+"/openapi.json", nil, "")
	if a.status != 200 || string(a.rawBody) != string(openapi.JSON) || a.header.Get("Cache-Control") == "" {
		t.Fatalf("%d %v", a.status, a.header)
	}
}

// TestRateLimit: call 501 within the minute answers 429 with Retry-After; another key is unaffected.
func TestRateLimit(t *testing.T) {
	api := startStack(t)
	tok := token(t, api, 6)
	h := map[string]string{"Authorization": "Bearer " + tok, "Ocp-Apim-Subscription-Key": seedFile.Entities[6].Credentials.SubscriptionKey}
	u := api + "/certified-pickup/v1/entities?NxtEntityId=" + seedFile.Entities[6].NxtEntityID
	client := openapitest.Client(t)
	var wg sync.WaitGroup
	statuses := make(chan int, 500)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 125; i++ {
				req, _ := http.NewRequest("GET", u, nil)
				for k, v := range h {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					statuses <- 0
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses <- resp.StatusCode
			}
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Fatalf("one of the first 500 calls answered %d", s)
		}
	}
	a := call(t, "GET", u, h, "")
	retry, _ := strconv.Atoi(a.header.Get("Retry-After"))
	if a.status != 429 || retry < 1 || retry > 60 {
		t.Fatalf("call 501: %d Retry-After=%q", a.status, a.header.Get("Retry-After"))
	}
	other := token(t, api, 7)
	b := call(t, "GET", u, map[string]string{"Authorization": "Bearer " + other, "Ocp-Apim-Subscription-Key": seedFile.Entities[7].Credentials.SubscriptionKey}, "")
	if b.status != 200 {
		t.Fatalf("another key: %d", b.status)
	}
}
