// Package mail is the platform's e-mail: a message with a plain-text and an HTML part, and the
// port that sends it (Amazon SES v2 in AWS and on the local stack, through shared/awsedge: the
// local stack's SES stand-in keeps what it is sent for people and tests to read).
package mail

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/mail"
	"strings"
)

// Message is one e-mail to one or more people.
type Message struct {
	To      []string
	Subject string
	Text    string
	HTML    string
}

// Sender sends a message and answers the provider's message id.
type Sender interface {
	Send(ctx context.Context, m Message) (string, error)
}

// Limits of a message (SES takes up to 50 recipients and 40 MB; ours are small notices).
const (
	MaxRecipients   = 50
	MaxSubjectChars = 200
)

// Validate checks a message before it is sent: recipients that parse as addresses, a subject
// without line breaks (a header), both parts present.
func (m Message) Validate() error {
	switch {
	case len(m.To) == 0 || len(m.To) > MaxRecipients:
		return fmt.Errorf("a message has 1 to %d recipients, not %d", MaxRecipients, len(m.To))
	case m.Subject == "" || len([]rune(m.Subject)) > MaxSubjectChars || strings.ContainsAny(m.Subject, "\r\n"):
		return errors.New("a message's subject is 1 to 200 characters on one line")
	case m.Text == "" || m.HTML == "":
		return errors.New("a message has a plain-text and an HTML part")
	}
	for _, to := range m.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("recipient %q: %w", to, err)
		}
	}
	return nil
}

// Compose builds a message from paragraphs and one link (the action the person is asked to take):
// the text part lists them with the link's address on its own line; the HTML part escapes every
// value and makes the link a button-like anchor.
func Compose(to, subject, greeting string, paragraphs []string, linkText, link string) Message {
	var t, h strings.Builder
	t.WriteString(greeting + "\n\n")
	h.WriteString("<!doctype html><html><body style=\"font-family:sans-serif;max-width:36em\">")
	h.WriteString("<p>" + html.EscapeString(greeting) + "</p>")
	for _, p := range paragraphs {
		t.WriteString(p + "\n\n")
		h.WriteString("<p>" + html.EscapeString(p) + "</p>")
	}
	if link != "" {
		t.WriteString(linkText + ":\n" + link + "\n\n")
		h.WriteString(`<p><a href="` + html.EscapeString(link) + `" style="display:inline-block;padding:.6em 1.2em;background:#0b5;color:#fff;text-decoration:none;border-radius:4px">` +
			html.EscapeString(linkText) + "</a></p>")
		h.WriteString("<p style=\"color:#555;font-size:90%\">" + html.EscapeString(link) + "</p>")
	}
	t.WriteString("-- \nThe Certified Pick-up platform")
	h.WriteString("<p style=\"color:#555\">The Certified Pick-up platform</p></body></html>")
	return Message{To: []string{to}, Subject: subject, Text: t.String(), HTML: h.String()}
}
