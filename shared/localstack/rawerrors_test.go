package localstack_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestMalformedRequestsGetProblemDocuments: what Go's server refuses before any handler runs (a
// header with a control character, a request line that is not HTTP, headers too large) is answered
// in problem+json like every other error of the API, with a request id.
func TestMalformedRequestsGetProblemDocuments(t *testing.T) {
	api := startStack(t)
	addr := strings.TrimPrefix(api, "http://")
	for name, c := range map[string]struct {
		raw    string
		status int
	}{
		"control character in a header": {"GET /certified-pickup/v1/entities?VAT=x HTTP/1.1\r\nHost: x\r\nExternal-Reference-Id: a\x01b\r\n\r\n", 400},
		"request line":                  {"GET /certified-pickup/v1/entities\r\nHost: x\r\n\r\n", 400},
		"headers too large":             {"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n", 431},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() { _, _ = io.WriteString(conn, c.raw) }()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Fatalf("%s: %v", name, err)
		}
		var doc map[string]any
		err = json.NewDecoder(resp.Body).Decode(&doc)
		conn.Close()
		if err != nil || resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" ||
			doc["status"] != float64(c.status) || doc["title"] == "" || resp.Header.Get("X-Amzn-Requestid") == "" {
			t.Errorf("%s: %d %s %v (%v)", name, resp.StatusCode, resp.Header.Get("Content-Type"), doc, err)
		}
	}
}
