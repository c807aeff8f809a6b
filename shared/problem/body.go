package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType of every error body.
const ContentType = "application/problem+json"

// typeOf follows the seed's example, which points at the RFC section of the status.
var typeOf = map[int]string{
	400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
	401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
	403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
	404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
	405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
	409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
	413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
	422: "https://tools.ietf.org/html/rfc9110#section-15.5.21",
	429: "https://tools.ietf.org/html/rfc6585#section-4",
	500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}

// Render turns an error into status, headers and a problem+json body. Internal errors never show
// their cause: it goes to the logs only.
func Render(err error, traceID string) (int, map[string]string, []byte) {
	pe := As(err)
	status := pe.Status()
	detail := pe.Detail
	if pe.Kind == KindInternal {
		detail = "An unexpected error has occurred, please try again later."
	}
	if detail == "" && len(pe.Fields) > 0 {
		// The contract gives every error body a detail; the fields say the rest.
		detail = "One or more fields are not valid; errors names each with its rule."
	}
	doc := map[string]any{
		"type":    typeOf[status],
		"title":   pe.Title(),
		"status":  status,
		"traceId": traceID,
	}
	if detail != "" {
		doc["detail"] = detail
	}
	if len(pe.Fields) > 0 {
		doc["errors"] = pe.Fields
	}
	for k, v := range pe.Extra {
		doc[k] = v
	}
	body, _ := json.Marshal(doc)
	headers := map[string]string{"Content-Type": ContentType}
	if pe.Kind == KindRateLimited && pe.RetryAfterSeconds > 0 {
		headers["Retry-After"] = strconv.Itoa(pe.RetryAfterSeconds)
	}
	if pe.Kind == KindUnauthorized {
		headers["WWW-Authenticate"] = `Bearer`
	}
	for k, v := range pe.Headers {
		headers[k] = v
	}
	return status, headers, body
}

// RenderGateway renders an answer the gateway gives itself (catalog.GatewayResponses) the same way
// as the functions' errors. The CDK stack renders the same document as a gateway response template.
func RenderGateway(status int, detail, traceID string) (int, map[string]string, []byte) {
	doc := GatewayDocument(status, detail)
	doc["traceId"] = traceID
	body, _ := json.Marshal(doc)
	return status, map[string]string{"Content-Type": ContentType}, body
}

// GatewayDocument is the problem document of a gateway response, without its trace id.
func GatewayDocument(status int, detail string) map[string]any {
	title := ""
	for k, s := range statusOf {
		if s == status && k != KindBadRequest {
			title = titleOf[k]
		}
	}
	if title == "" {
		title = http.StatusText(status) + "."
	}
	doc := map[string]any{"type": typeOf[status], "title": title, "status": status, "detail": detail}
	if doc["type"] == "" {
		doc["type"] = "about:blank" // RFC 9457: the status says it all
	}
	return doc
}
