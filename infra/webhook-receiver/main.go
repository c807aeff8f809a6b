// Command webhook-receiver is a development tool for integrators: it receives the platform's webhook
// deliveries of notifications (contract §9) on a loopback address, verifies their Standard Webhooks
// signature, deduplicates them on webhook-id, and prints one JSON line per delivery to standard
// output. Rejections and the reason for them go to standard error.
//
//	go run ./infra/webhook-receiver -secret whsec_... [-secret whsec_<previous>] [-addr 127.0.0.1:9000] [-status 204] [-verbose]
//	WEBHOOK_SECRET=whsec_... go run ./infra/webhook-receiver
//
// -status sets the answer to a verified delivery, so that the platform's retries can be tried out:
// 503 or 429 make it retry, 410 disables the channel, other 4xx fail the delivery at once. Only a 2xx
// answer records the webhook-id as processed: after a non-2xx answer the platform's retry is the
// expected next attempt, not a duplicate.
//
// It listens on loopback only: it is not a production receiver. Expose it to a deployed stage through
// a tunnel of your choice; the local stack delivers to loopback directly.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxBody caps a delivery's body; larger ones are answered 413.
const maxBody = 1 << 20

// dedupeSize is how many processed webhook-ids are remembered.
const dedupeSize = 10_000

type config struct {
	addr    string
	secrets []string
	status  int
	verbose bool
	// now is the clock the timestamp tolerance is checked against (time.Now when nil).
	now func() time.Time
	// log receives one line per rejected request (standard error when nil).
	log *log.Logger
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "webhook-receiver:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	cfg.log = log.New(stderr, "", log.LstdFlags)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	// "localhost" is resolved by the system: check what was actually bound.
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		ln.Close()
		return fmt.Errorf("-addr %q: bound %v, which is not loopback", cfg.addr, ln.Addr())
	}
	srv := &http.Server{
		Handler:           newHandler(cfg, stdout),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          cfg.log,
	}
	cfg.log.Printf("listening on http://%s/ (%d secret(s), answering %d to verified deliveries); Ctrl-C stops",
		ln.Addr(), len(cfg.secrets), cfg.status)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	cfg.log.Print("stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// secretList is a repeatable -secret flag.
type secretList []string

func (s *secretList) String() string { return fmt.Sprintf("%d secret(s)", len(*s)) } // never the secrets
func (s *secretList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("webhook-receiver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var secrets secretList
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:9000", "loopback `host:port` to listen on")
	fs.Var(&secrets, "secret", "signing `secret` (whsec_...); repeat it during a rotation for the previous one (default: $WEBHOOK_SECRET, space separated)")
	fs.IntVar(&cfg.status, "status", http.StatusNoContent, "HTTP `status` to answer a verified delivery (e.g. 503 or 410 to try retries)")
	fs.BoolVar(&cfg.verbose, "verbose", false, "also print the whole envelope (field \"envelope\" of the line)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.secrets = secrets
	if len(cfg.secrets) == 0 {
		cfg.secrets = strings.Fields(getenv("WEBHOOK_SECRET"))
	}
	if len(cfg.secrets) == 0 {
		return config{}, errors.New("no signing secret: pass -secret whsec_... or set WEBHOOK_SECRET")
	}
	for i, s := range cfg.secrets {
		if _, err := decodeSecret(s); err != nil {
			return config{}, fmt.Errorf("secret %d: %w", i+1, err)
		}
	}
	if cfg.status < 200 || cfg.status > 599 {
		return config{}, fmt.Errorf("-status %d: want 200..599", cfg.status)
	}
	if err := validateAddr(cfg.addr); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// validateAddr accepts only a loopback listen address: an IP literal in 127.0.0.0/8 or ::1, or
// "localhost". An empty host (":9000") would listen on every interface and is refused.
func validateAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("-addr %q: invalid port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: only a loopback address (127.0.0.1, ::1, localhost) is allowed: this is a development tool", addr)
	}
	return nil
}

// delivery is the line printed for each verified delivery.
type delivery struct {
	WebhookID         string `json:"webhookId"`
	Timestamp         string `json:"timestamp"`   // the envelope's: order notifications by it
	AttemptTime       string `json:"attemptTime"` // webhook-timestamp, RFC 3339 UTC
	Type              string `json:"type"`
	Event             string `json:"event"`
	PublicReferenceID string `json:"publicReferenceId"`
	EquipmentNumber   string `json:"equipmentNumber"`
	Duplicate         bool   `json:"duplicate"`
	Envelope          any    `json:"envelope,omitempty"` // -verbose
}

// envelope holds the fields of the notification envelope (contract §7) the line shows.
type envelope struct {
	PublicReferenceID string `json:"publicReferenceId"`
	Timestamp         string `json:"timestamp"`
	Type              string `json:"type"`
	Event             string `json:"event"`
	Body              struct {
		EquipmentNumber string `json:"equipmentNumber"`
	} `json:"body"`
}

type handler struct {
	cfg  config
	seen *idSet

	mu  sync.Mutex // serialises the lines
	out *json.Encoder
}

// newHandler answers the platform's POSTs: verified deliveries with cfg.status (and one line each
// on out), the rest with 401, 405 or 413 (and a line on cfg.log).
func newHandler(cfg config, out io.Writer) http.Handler {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.log == nil {
		cfg.log = log.New(os.Stderr, "", log.LstdFlags)
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	return &handler{cfg: cfg, seen: newIDSet(dedupeSize), out: enc}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		h.cfg.log.Printf("rejected %s %s: method not allowed (405)", r.Method, r.URL.Path)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			h.cfg.log.Printf("rejected webhook-id %q: body larger than %d bytes (413)", r.Header.Get("webhook-id"), maxBody)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		h.cfg.log.Printf("rejected webhook-id %q: reading body: %v (400)", r.Header.Get("webhook-id"), err)
		return
	}
	if err := Verify(h.cfg.secrets, r.Header, body, h.cfg.now()); err != nil {
		http.Error(w, "signature verification failed", http.StatusUnauthorized)
		h.cfg.log.Printf("rejected webhook-id %q: %v (401)", r.Header.Get("webhook-id"), err)
		return
	}

	id := r.Header.Get("webhook-id")
	line := delivery{WebhookID: id}
	if sec, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64); err == nil {
		line.AttemptTime = time.Unix(sec, 0).UTC().Format(time.RFC3339)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		h.cfg.log.Printf("webhook-id %q: verified, but the body is not a JSON envelope: %v", id, err)
	}
	line.Timestamp, line.Type, line.Event = env.Timestamp, env.Type, env.Event
	line.PublicReferenceID, line.EquipmentNumber = env.PublicReferenceID, env.Body.EquipmentNumber
	if h.cfg.verbose {
		var compact bytes.Buffer
		if json.Compact(&compact, body) == nil {
			line.Envelope = json.RawMessage(compact.Bytes())
		} else {
			line.Envelope = string(body)
		}
	}
	// Only a 2xx answer tells the platform the delivery was processed.
	if h.cfg.status >= 200 && h.cfg.status < 300 {
		line.Duplicate = !h.seen.add(id)
	}

	h.mu.Lock()
	err = h.out.Encode(line)
	h.mu.Unlock()
	if err != nil {
		h.cfg.log.Printf("webhook-id %q: writing the line: %v", id, err)
	}
	w.WriteHeader(h.cfg.status)
}

// idSet remembers the last n ids added (a ring buffer evicts the oldest).
type idSet struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string
	next int
}

func newIDSet(n int) *idSet {
	return &idSet{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

// add records id and reports whether it was new.
func (s *idSet) add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.next = (s.next + 1) % len(s.ring)
	s.ids[id] = struct{}{}
	return true
}
