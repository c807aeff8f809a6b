package localstack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/mail"
)

// TestSESStandIn: the SDK's SendEmail, through the adapter the functions use, reaches the stand-in;
// the message is kept with both parts and read back as JSON and as a page; what SES refuses, the
// stand-in refuses.
func TestSESStandIn(t *testing.T) {
	box := &localstack.Mailbox{Dir: t.TempDir()}
	ses, err := localstack.StartSES(box)
	if err != nil {
		t.Fatal(err)
	}
	defer ses.Stop()
	client := sesv2.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")},
		func(o *sesv2.Options) { o.BaseEndpoint = aws.String(ses.Endpoint) })
	m := awsedge.SESMailer{Client: client, From: "no-reply@cpu.local", ConfigurationSet: "cpu-local"}
	msg := mail.Compose("anna@example.com", "Confirm your e-mail", "Dear Anna,", []string{"Confirm <now>."}, "Confirm", "http://127.0.0.1/console/#confirm?t=abc")
	id, err := m.Send(context.Background(), msg)
	if err != nil || id == "" {
		t.Fatalf("send: %q %v", id, err)
	}
	got, err := box.List("ANNA@example.com")
	if err != nil || len(got) != 1 || got[0].ID != id || got[0].Subject != "Confirm your e-mail" || got[0].ConfigurationSet != "cpu-local" ||
		!strings.Contains(got[0].Text, "http://127.0.0.1/console/#confirm?t=abc") || !strings.Contains(got[0].HTML, "Confirm &lt;now&gt;.") {
		t.Fatalf("kept: %+v %v", got, err)
	}
	if _, err := m.Send(context.Background(), mail.Message{To: []string{"x@example.com"}, Subject: "s", Text: "t", HTML: "h"}); err != nil {
		t.Fatal(err)
	}
	bad := awsedge.SESMailer{Client: client, From: "not an address"}
	if _, err := bad.Send(context.Background(), msg); err == nil || !strings.Contains(err.Error(), "BadRequest") {
		t.Fatalf("bad sender: %v", err)
	}
	// Read back over HTTP, as /_local/mail serves it.
	rec := httptest.NewRecorder()
	localstack.ServeMailbox(box, rec, httptest.NewRequest(http.MethodGet, "/_local/mail?to=anna@example.com", nil))
	var list []localstack.SentMail
	if json.Unmarshal(rec.Body.Bytes(), &list) != nil || len(list) != 1 {
		t.Fatalf("JSON: %s", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/_local/mail", nil)
	req.Header.Set("Accept", "text/html")
	localstack.ServeMailbox(box, rec, req)
	if !strings.Contains(rec.Body.String(), "2 messages") || !strings.Contains(rec.Body.String(), "/_local/mail/"+id) {
		t.Fatalf("page: %s", rec.Body.String())
	}
}
