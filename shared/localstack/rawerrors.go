package localstack

import (
	"bytes"
	"net"
	"net/http"
	"regexp"
	"strconv"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/problem"
)

// problemListener makes the answers Go's HTTP server gives by itself, before any handler runs (a
// header with control characters or bad bytes, a malformed request line, headers too large), into
// problem+json documents like every other answer of the API. Go writes them straight to the
// connection in one piece of a fixed shape, which the connection recognises and rewrites.
type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return problemConn{Conn: c}, nil
}

type problemConn struct{ net.Conn }

// goTransportError is net/http's own error answer: a status line, a plain-text type and a close.
var goTransportError = regexp.MustCompile(`^HTTP/1\.1 (\d{3}) [^\r\n]*\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n`)

func (c problemConn) Write(p []byte) (int, error) {
	m := goTransportError.FindSubmatch(p)
	if m == nil {
		return c.Conn.Write(p)
	}
	status, _ := strconv.Atoi(string(m[1]))
	detail := map[int]string{
		http.StatusBadRequest:                  "The request is not valid HTTP: a header holds a character headers may not hold, or the request line is malformed.",
		http.StatusRequestHeaderFieldsTooLarge: "The request's headers are too large.",
		http.StatusNotImplemented:              "The request's transfer encoding is not supported.",
	}[status]
	if detail == "" {
		detail = "The request could not be read."
	}
	id := uuid.NewString()
	_, headers, body := problem.RenderGateway(status, detail, id)
	var out bytes.Buffer
	out.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	out.WriteString("Content-Type: " + headers["Content-Type"] + "\r\n")
	out.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	out.WriteString("X-Amzn-Requestid: " + id + "\r\nConnection: close\r\n\r\n")
	out.Write(body)
	if _, err := c.Conn.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
