package openapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/openapi"
	"github.com/portcommunity/cpu/shared/openapi/internal/yamljson"
	"github.com/portcommunity/cpu/shared/openapi/openapitest"
)

// TestDocumentIsValid: the source loads, is OpenAPI 3.1, passes kin-openapi's validation (which
// also checks every media type's examples against its schema), and its schema examples and the JSON
// inside its examples (E7's message) match their schemas.
func TestDocumentIsValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() || !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := openapitest.Default(t).Examples(); err != nil {
		t.Error(err)
	}
}

// TestServedJSONIsTheYAML: openapi.json is exactly what go generate makes of openapi.yaml.
func TestServedJSONIsTheYAML(t *testing.T) {
	src, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := yamljson.Convert(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(openapi.JSON, want) {
		t.Fatal("openapi.json is stale: run `make generate` (go generate ./shared/openapi)")
	}
}

// TestEveryRouteIsAnOperation: the document and the catalog describe the same routes, with the
// same protection; a route added to one and not the other fails here.
func TestEveryRouteIsAnOperation(t *testing.T) {
	doc := openapitest.Default(t).Doc()
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[method+" "+path] = op
		}
	}
	var routes []string
	for _, fn := range catalog.Functions() {
		r := fn.Trigger.Route
		if r == nil {
			continue
		}
		key := r.Method + " " + r.Path
		routes = append(routes, key)
		op, ok := ops[key]
		if !ok {
			t.Errorf("%s (%s) is not an operation of the document", key, fn.Name)
			continue
		}
		delete(ops, key)
		security := doc.Security
		if op.Security != nil {
			security = *op.Security
		}
		if got, want := schemes(security), authSchemes[r.Auth]; got != want {
			t.Errorf("%s: security %s, the catalog's protection is %s", key, got, want)
		}
	}
	for key := range ops {
		t.Errorf("%s is documented but no catalog function serves it", key)
	}
	if len(routes) < 9 {
		t.Errorf("only %d routes in the catalog", len(routes))
	}
}

// authSchemes is each protection as security requirements: alternatives separated by " | ",
// schemes of one alternative by "+"; an empty alternative needs nothing.
var authSchemes = map[catalog.AuthMode]string{
	catalog.Public:           "",
	catalog.TokenAndKey:      "bearerToken+subscriptionKey",
	catalog.TokenOptionalKey: "bearerToken | bearerToken+subscriptionKey",
	catalog.ConsoleSession:   "consoleSession",
}

// schemes renders requirements as authSchemes does. The token endpoint's optional HTTP Basic client
// authentication is public: one alternative needs nothing.
func schemes(reqs openapi3.SecurityRequirements) string {
	var alts []string
	for _, r := range reqs {
		if len(r) == 0 {
			return ""
		}
		var names []string
		for name := range r {
			names = append(names, name)
		}
		sort.Strings(names)
		alts = append(alts, strings.Join(names, "+"))
	}
	sort.Strings(alts)
	return strings.Join(alts, " | ")
}

// TestHandler: GET /openapi.json answers the document, as the document itself describes.
func TestHandler(t *testing.T) {
	h := apigw.Lambda(openapi.Handler, slog.New(slog.DiscardHandler))
	resp, err := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/openapi.json", Resource: "/openapi.json"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" || resp.Headers["Cache-Control"] != openapi.CacheControl ||
		resp.Body != string(openapi.JSON) {
		t.Fatalf("%d %v", resp.StatusCode, resp.Headers)
	}
	header := http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/openapi.json", nil)
	if err := openapitest.Default(t).Check(req, nil, resp.StatusCode, header, []byte(resp.Body)); err != nil {
		t.Error(err)
	}
}

// TestLambdasDoNotLinkTheValidator: kin-openapi, the YAML tooling and the generated client stay out
// of every function binary; the served document is embedded JSON.
func TestLambdasDoNotLinkTheValidator(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/portcommunity/cpu/functions/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/portcommunity/cpu/shared/openapi") {
		t.Fatal("no function links shared/openapi: is functions/openapi gone?")
	}
	for _, d := range deps {
		for _, heavy := range []string{"github.com/getkin/", "go.yaml.in/", "gopkg.in/yaml", "github.com/oasdiff/", "github.com/santhosh-tekuri/", "github.com/gorilla/",
			"github.com/oapi-codegen/", "github.com/portcommunity/cpu/shared/openapi/", "github.com/portcommunity/cpu/shared/apiclient"} {
			if strings.HasPrefix(d, heavy) {
				t.Errorf("a function links %s", d)
			}
		}
	}
}
