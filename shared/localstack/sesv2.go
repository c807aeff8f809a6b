package localstack

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// The npm SES and SMTP stand-ins do not install here (their dependency chains ask for versions the
// registry lacks), so the local stack answers the one SES v2 call the platform makes, SendEmail
// (POST /v2/email/outbound-emails, REST-JSON), itself: the functions' SDK reaches it through
// AWS_ENDPOINT_URL_SESV2, as DynamoDB and SQS are reached, so the same adapter runs in both. Each
// message is kept as a JSON file in the mailbox directory (.local/mail/ under make run), and the
// gateway serves them at /_local/mail.

// SentMail is one message the stand-in accepted.
type SentMail struct {
	ID               string    `json:"id"`
	At               time.Time `json:"at"`
	From             string    `json:"from"`
	To               []string  `json:"to"`
	Subject          string    `json:"subject"`
	Text             string    `json:"text"`
	HTML             string    `json:"html"`
	ConfigurationSet string    `json:"configurationSet,omitempty"`
}

// Mailbox is the directory the stand-in keeps messages in.
type Mailbox struct {
	Dir string
	mu  sync.Mutex
}

// Save keeps a message (file names sort by time).
func (b *Mailbox) Save(m SentMail) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.Dir, m.At.UTC().Format("20060102T150405.000000000Z")+"-"+m.ID+".json"), raw, 0o644)
}

// List answers the messages, newest first; to, when given, keeps those sent to that address.
func (b *Mailbox) List(to string) ([]SentMail, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	names, err := filepath.Glob(filepath.Join(b.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	out := []SentMail{}
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var m SentMail
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if to == "" || containsFold(m.To, to) {
			out = append(out, m)
		}
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), strings.TrimSpace(s)) {
			return true
		}
	}
	return false
}

// SESServer is the SES v2 stand-in.
type SESServer struct {
	Box      *Mailbox
	Endpoint string
	srv      *http.Server
}

// StartSES listens on a free loopback port.
func StartSES(box *Mailbox) (*SESServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &SESServer{Box: box, Endpoint: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Stop closes the listener.
func (s *SESServer) Stop() { s.srv.Close() }

// sendEmailInput is the part of SendEmail's body the platform uses.
type sendEmailInput struct {
	FromEmailAddress string
	Destination      *struct{ ToAddresses, CcAddresses, BccAddresses []string }
	Content          *struct {
		Simple *struct {
			Subject *struct{ Data string }
			Body    *struct{ Text, Html *struct{ Data string } }
		}
	}
	ConfigurationSetName string
}

func (s *SESServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
		sesError(w, http.StatusNotFound, "NotFoundException", "the SES stand-in answers SendEmail only")
		return
	}
	var in sendEmailInput
	if err := json.NewDecoder(io.LimitReader(r.Body, 10<<20)).Decode(&in); err != nil {
		sesError(w, http.StatusBadRequest, "BadRequestException", "the body is not JSON: "+err.Error())
		return
	}
	m := SentMail{ID: uuid.NewString(), At: time.Now().UTC(), From: in.FromEmailAddress, ConfigurationSet: in.ConfigurationSetName}
	if in.Destination != nil {
		m.To = append(append(append(m.To, in.Destination.ToAddresses...), in.Destination.CcAddresses...), in.Destination.BccAddresses...)
	}
	if c := in.Content; c != nil && c.Simple != nil {
		if c.Simple.Subject != nil {
			m.Subject = c.Simple.Subject.Data
		}
		if b := c.Simple.Body; b != nil {
			if b.Text != nil {
				m.Text = b.Text.Data
			}
			if b.Html != nil {
				m.HTML = b.Html.Data
			}
		}
	}
	// What SES itself refuses.
	if _, err := mail.ParseAddress(m.From); err != nil {
		sesError(w, http.StatusBadRequest, "BadRequestException", "FromEmailAddress is not an address")
		return
	}
	if len(m.To) == 0 || len(m.To) > 50 {
		sesError(w, http.StatusBadRequest, "BadRequestException", "a message has 1 to 50 recipients")
		return
	}
	if m.Subject == "" || (m.Text == "" && m.HTML == "") {
		sesError(w, http.StatusBadRequest, "BadRequestException", "a simple message has a subject and a body")
		return
	}
	if err := s.Box.Save(m); err != nil {
		sesError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"MessageId": m.ID})
}

func sesError(w http.ResponseWriter, status int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", kind)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// ServeMailbox answers /_local/mail (JSON, newest first; ?to= filters), /_local/mail with an Accept
// of text/html (a page listing them), and /_local/mail/{id} (one message's HTML part).
func ServeMailbox(box *Mailbox, w http.ResponseWriter, r *http.Request) {
	list, err := box.List(r.URL.Query().Get("to"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if id := strings.TrimPrefix(r.URL.Path, "/_local/mail/"); id != r.URL.Path && id != "" {
		for _, m := range list {
			if m.ID == id {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, m.HTML)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(list)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Local mailbox</title></head><body><h1>Local mailbox</h1>`)
	b.WriteString(fmt.Sprintf("<p>%d messages, newest first (JSON: <code>/_local/mail</code>).</p><ul>", len(list)))
	for _, m := range list {
		b.WriteString(fmt.Sprintf(`<li><a href="/_local/mail/%s">%s</a> to %s, %s</li>`, html.EscapeString(m.ID), html.EscapeString(m.Subject),
			html.EscapeString(strings.Join(m.To, ", ")), m.At.Format(time.RFC3339)))
	}
	b.WriteString("</ul></body></html>")
	io.WriteString(w, b.String())
}
