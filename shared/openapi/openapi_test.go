package openapi_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
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
