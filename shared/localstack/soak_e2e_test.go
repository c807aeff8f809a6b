package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/store"
	"github.com/portcommunity/cpu/shared/webhook"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// soakNotifications is how many notifications the soak stores for one entity.
const soakNotifications = 5000

// TestSoakThreeChannels: 5,000 notifications to an entity with three channels: a healthy one, a
// slow one (each answer takes 5 ms, twenty-five times the healthy one's) and a dead one (nothing
// listens). The healthy and the slow channel get every notification exactly once after
// deduplication on webhook-id (duplicates are counted and allowed: delivery is at least once);
// the dead one's deliveries are attempted and retried on the schedule, none is lost.
//
// On the isolated stack: the schedule runs a hundred times faster (5 s → 50 ms, 5 min → 3 s, 30 min
// → 18 s) and the cap on deliveries a second to one channel is lifted to 1,000, so the soak
// measures correctness under load, not the 20-a-second cap (which
// TestDeliveriesArePacedAndFiltered holds the shared stack to). It runs before the parallel
// tests. A receiver that hangs is TestHangingChannelHoldsNoOther's.
func TestSoakThreeChannels(t *testing.T) {
	s := isolatedStack(t)
	api := s.api
	h := party(t, api, 1)

	healthy, slow := newCounting(t, 0), newCounting(t, 5*time.Millisecond)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close() // nothing listens there now: every connection is refused
	ids := map[string]string{}
	for name, u := range map[string]string{"healthy": healthy.srv.URL, "slow": slow.srv.URL, "dead": deadURL} {
		id, secret := createChannel(t, api, h, map[string]any{"name": name, "url": u})
		ids[name] = id
		if c := map[string]*counting{"healthy": healthy, "slow": slow}[name]; c != nil {
			c.mu.Lock()
			c.secret = secret
			c.mu.Unlock()
		}
	}

	// The notifications are stored as the notification writer stores them; the table's stream
	// takes them from there.
	var state localstack.State
	raw, _ := os.ReadFile(s.state)
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	st := store.New((&localstack.Backends{DynamoEndpoint: state.DynamoEndpoint}).DynamoDB(), state.Table)
	receiver := seedFile.Entities[1].NxtEntityID
	start := time.Now().UTC()
	var batch []notification.Notification
	for i := range soakNotifications {
		ref := uuid.NewString()
		env := fmt.Sprintf(`{"publicReferenceId":%q,"externalReferenceId":null,"receiverId":%q,"senderId":null,"timestamp":%q,"type":"ReleaseRight","event":"Update","errors":[],"warnings":[],"body":{"portLoCode":"BEANR","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["SOAK%d"]}}`,
			ref, receiver, start.Format(time.RFC3339Nano), i)
		batch = append(batch, notification.Notification{NxtEntityID: receiver, EquipmentNumber: "CSQU3054383", PublicReferenceID: ref,
			StoredOn: start.Add(time.Duration(i) * time.Microsecond), Message: env, Type: "ReleaseRight", Event: "Update", Seq: "000#00"})
	}
	if err := st.PutNotifications(context.Background(), batch); err != nil {
		t.Fatal(err)
	}

	all := func(c *counting) bool { return c.distinct() == soakNotifications }
	testenv.Eventually(10*time.Minute, func() bool { return all(healthy) && all(slow) })
	for name, c := range map[string]*counting{"healthy": healthy, "slow": slow} {
		if c.distinct() != soakNotifications || c.unverified() > 0 {
			t.Errorf("%s channel: %d of %d notifications, %d unverified", name, c.distinct(), soakNotifications, c.unverified())
		}
		t.Logf("%s channel: %d deliveries, %d of them duplicates, in %v", name, c.total(), c.total()-c.distinct(), c.last().Sub(start).Round(time.Millisecond))
	}

	// The dead channel: every notification's first attempt failed and was scheduled again; where
	// later attempts were made, each came no sooner than its step of the schedule allows.
	attempts := map[string][]webhook.Attempt{}
	testenv.Eventually(5*time.Minute, func() bool {
		attempts = deadAttempts(t, st, ids["dead"], start)
		return len(attempts) == soakNotifications
	})
	if len(attempts) != soakNotifications {
		t.Fatalf("the dead channel has attempts for %d of %d notifications", len(attempts), soakNotifications)
	}
	steps := []time.Duration{50 * time.Millisecond, 3 * time.Second, 18 * time.Second, 72 * time.Second}
	retried := 0
	for id, as := range attempts {
		sort.Slice(as, func(i, j int) bool { return as[i].Attempt < as[j].Attempt })
		for i, a := range as {
			if a.Attempt != i+1 || a.Status != nil || a.Outcome != webhook.Retrying {
				t.Fatalf("%s: attempts %+v", id, as)
			}
			if i > 0 && a.Time.Sub(as[i-1].Time) < steps[i-1]*9/10 {
				t.Fatalf("%s: attempt %d came %v after the one before, before its step (%v)", id, a.Attempt, a.Time.Sub(as[i-1].Time), steps[i-1])
			}
		}
		if len(as) > 1 {
			retried++
		}
	}
	if retried == 0 {
		t.Fatal("no dead delivery was retried")
	}
	t.Logf("dead channel: %d notifications attempted, %d retried so far", len(attempts), retried)
}

// deadAttempts reads the dead channel's delivery log since start, by webhook id.
func deadAttempts(t *testing.T, st *store.Store, channel string, start time.Time) map[string][]webhook.Attempt {
	out := map[string][]webhook.Attempt{}
	q := webhook.LogQuery{ChannelID: channel, From: start.Add(-time.Minute), To: time.Now().Add(time.Minute), Limit: 1000, MaxRead: 1000}
	for {
		page, err := st.Attempts(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Items {
			out[a.WebhookID] = append(out[a.WebhookID], a)
		}
		if page.Next == "" {
			return out
		}
		q.Before = page.Next
	}
}

// counting is a receiver that verifies each delivery's signature and counts webhook ids.
type counting struct {
	srv    *httptest.Server
	secret string
	delay  time.Duration
	mu     sync.Mutex
	seen   map[string]int
	bad    int
	n      int
	at     time.Time
}

func newCounting(t *testing.T, delay time.Duration) *counting {
	c := &counting{seen: map[string]int{}, delay: delay}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answerLate(r, c.delay) // the receiver is slow; the test itself waits only on evidence
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		defer c.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(c.secret)
		if err != nil || wh.Verify(body, r.Header) != nil {
			c.bad++
			w.WriteHeader(401)
			return
		}
		c.seen[r.Header.Get("webhook-id")]++
		c.n++
		c.at = time.Now()
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *counting) distinct() int   { c.mu.Lock(); defer c.mu.Unlock(); return len(c.seen) }
func (c *counting) total() int      { c.mu.Lock(); defer c.mu.Unlock(); return c.n }
func (c *counting) unverified() int { c.mu.Lock(); defer c.mu.Unlock(); return c.bad }
func (c *counting) last() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.at }

// answerLate is a receiver's latency: it holds the answer d (or until the platform gives up).
func answerLate(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}
