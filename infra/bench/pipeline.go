package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

const (
	latencyReleases    = 1000
	latencyRate        = 10 // per second: well under the 20 deliveries a second one channel is held to
	throughputReleases = 1000
	throughputSenders  = 8
)

// pipelineBench runs the release pipeline on a local stack (in this process, its functions as
// processes) and measures latency from 202 to readable through E7, sustained releases applied per
// second beside a plain TransactWriteItems loop on the same DynamoDB Local, and write capacity.
func pipelineBench(root string) {
	fmt.Println("== Release pipeline on the local stack (the usage plan lifted: this measures the pipeline)")
	dir, _ := os.MkdirTemp("", "cpu-bench-")
	defer os.RemoveAll(dir)
	port, _ := localstack.FreePort()
	cfg := localstack.Config{
		Root: root, ToolsDir: filepath.Join(root, ".tools"), BinDir: filepath.Join(root, ".build", "local", "functions"),
		StateDir: dir, Addr: "127.0.0.1:" + strconv.Itoa(port), SeedFile: filepath.Join(root, "events", "local", "seed.json"),
		Instances: 2, CallsPerMinute: 1 << 30,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- localstack.Run(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil))) }()
	defer func() { cancel(); <-done }()
	api := "http://" + cfg.Addr
	waitHealthy(api)
	var state localstack.State
	raw, err := os.ReadFile(filepath.Join(dir, "stack.json"))
	if err != nil || json.Unmarshal(raw, &state) != nil {
		fail(fmt.Errorf("stack state: %v", err))
	}
	seed, err := localstack.ReadSeed(cfg.SeedFile)
	if err != nil {
		fail(err)
	}
	c := &client{api: api, sa: seed.Entities[0]}
	c.token = c.getToken()

	// Baseline first, while the stack is idle: the consumer's own transaction in a plain loop on the
	// same DynamoDB Local.
	be := &localstack.Backends{DynamoEndpoint: state.DynamoEndpoint}
	db := be.DynamoDB()
	table := "bench-baseline"
	if err := localstack.CreateTable(context.Background(), db, table, catalog.SingleTable); err != nil {
		fail(err)
	}
	var consumed, minimum float64
	st := store.New(db, table).WithCapacity(func(c, m float64) { consumed += c; minimum += m })
	start := time.Now()
	for i := 0; i < throughputReleases; i++ {
		d := release.Apply(nil, command(container("BSLU", i), c.sa.NxtEntityID), release.Resolved{TerminalOperatorID: "NXT200000003", ReleaseToID: "NXT200000005"}, time.Now(), uuid.NewString)
		if err := st.Save(context.Background(), nil, d); err != nil {
			fail(err)
		}
	}
	baseRate := float64(throughputReleases) / time.Since(start).Seconds()
	// A notification channel of the shipping agent, to a receiver in this process: the time from the
	// 202 to the first delivery of each reference, beside the time to readable through E7.
	// One ReleaseLight notification per release reaches it (10 a second, under the cap of 20).
	hooks := newHookReceiver()
	defer hooks.Close()
	c.createChannel(hooks.URL, "ReleaseLight")
	// Latency: releases at a steady rate; one poller walks the outstanding references through E7.
	var mu sync.Mutex
	sentAt, sentRefs := map[string]time.Time{}, map[string]time.Time{}
	var latencies []time.Duration
	stop := make(chan struct{})
	var pollers sync.WaitGroup
	pollers.Add(1)
	go func() {
		defer pollers.Done()
		for {
			mu.Lock()
			refs := make([]string, 0, len(sentAt))
			for r := range sentAt {
				refs = append(refs, r)
			}
			mu.Unlock()
			if len(refs) == 0 {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				continue
			}
			for _, r := range refs {
				if c.readable(r) {
					mu.Lock()
					latencies = append(latencies, time.Since(sentAt[r]))
					delete(sentAt, r)
					mu.Unlock()
				}
			}
		}
	}()
	tick := time.NewTicker(time.Second / latencyRate)
	for i := 0; i < latencyReleases; i++ {
		<-tick.C
		ref, at := c.release(container("BNCU", i))
		mu.Lock()
		sentAt[ref] = at
		sentRefs[ref] = at
		mu.Unlock()
	}
	tick.Stop()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(sentAt)
		mu.Unlock()
		if n == 0 {
			break
		}
	}
	close(stop)
	pollers.Wait()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	if len(latencies) != latencyReleases {
		fail(fmt.Errorf("only %d of %d releases became readable", len(latencies), latencyReleases))
	}
	fmt.Printf("202 to readable through E7, %d releases at %d/s: p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
		latencyReleases, latencyRate, ms(latencies[len(latencies)/2]), ms(latencies[len(latencies)*99/100]), ms(latencies[len(latencies)-1]))
	hooked := hooks.latencies(sentRefs)
	if len(hooked) != latencyReleases {
		fail(fmt.Errorf("only %d of %d releases reached the webhook receiver", len(hooked), latencyReleases))
	}
	fmt.Printf("202 to received by the webhook receiver, same releases: p50 %.0f ms, p99 %.0f ms, max %.0f ms (ratio to E7 at p50 %.2f)\n",
		ms(hooked[len(hooked)/2]), ms(hooked[len(hooked)*99/100]), ms(hooked[len(hooked)-1]), float64(hooked[len(hooked)/2])/float64(latencies[len(latencies)/2]))
	deliveryRate(state, c)

	// Throughput: as fast as E1 takes them; applied = the release item is in the table.
	start = time.Now()
	var wg sync.WaitGroup
	jobs := make(chan int)
	for w := 0; w < throughputSenders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c.release(container("TPTU", i))
			}
		}()
	}
	for i := 0; i < throughputReleases; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	waitApplied(db, state.Table, "TPTU", throughputReleases, c.sa.NxtEntityID)
	pipelineRate := float64(throughputReleases) / time.Since(start).Seconds()

	fmt.Printf("releases applied per second: pipeline %.0f/s (E1 → queue → consumer), TransactWriteItems loop %.0f/s, ratio %.2f\n",
		pipelineRate, baseRate, pipelineRate/baseRate)
	fmt.Printf("write capacity per Release (with releaseTo): %.1f WCU consumed as DynamoDB Local reports it, %.1f WCU the items require at least (transactional: 2 per started KB)\n\n",
		consumed/throughputReleases, minimum/throughputReleases)
}

type client struct {
	api   string
	sa    localstack.SeedEntity
	token string
}

func (c *client) getToken() string {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.sa.Credentials.ClientID}, "client_secret": {c.sa.Credentials.ClientSecret}}
	resp, err := http.PostForm(c.api+"/oauth2/token", form)
	if err != nil {
		fail(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return out.AccessToken
}

// release posts a Release with releaseTo and returns its reference and when the 202 came.
func (c *client) release(containerNo string) (string, time.Time) {
	cmd := command(containerNo, c.sa.NxtEntityID)
	body, _ := json.Marshal(cmd.Request)
	req, _ := http.NewRequest("POST", c.api+"/ingestion/v1/ingestion/"+c.sa.Credentials.IngestionID, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail(err)
	}
	defer resp.Body.Close()
	var out struct {
		PublicReferenceID string `json:"publicReferenceId"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 202 {
		fail(fmt.Errorf("E1 answered %d", resp.StatusCode))
	}
	return out.PublicReferenceID, time.Now()
}

func (c *client) readable(ref string) bool {
	req, _ := http.NewRequest("GET", c.api+"/certified-pickup/v1/notifications?publicReferenceId="+ref, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Ocp-Apim-Subscription-Key", c.sa.Credentials.SubscriptionKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200
}

func command(containerNo, sa string) release.Command {
	rel, exp := time.Now().UTC().Truncate(time.Second), time.Now().UTC().Add(30*24*time.Hour).Truncate(time.Second)
	no := false
	return release.Command{PublicReferenceID: uuid.NewString(), Requester: sa, CarrierID: sa, Action: release.ActRelease, Request: release.Request{
		ReleaseIdentification: "B-" + containerNo, EquipmentNumber: containerNo, EquipmentType: "45G1", BillOfLadingNumbers: []string{"BL-" + containerNo},
		PortLoCode: "BEANR", TerminalCode: "01700", ActionType: release.ActRelease, IsCarrierHaulage: &no,
		Carrier:            &release.PartyRef{IdentificationType: "NxtEntityId", IdentificationCode: sa},
		ReleaseTo:          &release.PartyRef{IdentificationType: "NxtEntityId", IdentificationCode: "NXT200000005"},
		ReleaseDateTimeUtc: &rel, ExpirationDateTimeUtc: &exp, VesselName: "MSC BENCHMARK", VoyageNumber: "V001",
	}}
}

func container(owner string, i int) string {
	return release.WithCheckDigit(fmt.Sprintf("%s%06d", owner, i))
}

// waitApplied waits until every release item exists (BatchGetItem, 100 keys a call).
func waitApplied(db *dynamodb.Client, table, owner string, n int, sa string) {
	pending := map[int]bool{}
	for i := 0; i < n; i++ {
		pending[i] = true
	}
	for deadline := time.Now().Add(5 * time.Minute); len(pending) > 0; {
		if time.Now().After(deadline) {
			fail(fmt.Errorf("%d releases not applied", len(pending)))
		}
		var batch []int
		for i := range pending {
			if batch = append(batch, i); len(batch) == 100 {
				break
			}
		}
		keys := make([]map[string]types.AttributeValue, 0, len(batch))
		byKey := map[string]int{}
		for _, i := range batch {
			c := container(owner, i)
			sk := "ACTIVE#" + sa + "#" + release.BillOfLadingKey([]string{"BL-" + c})
			keys = append(keys, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REL#BEANR#" + c}, "sk": &types.AttributeValueMemberS{Value: sk}})
			byKey[c] = i
		}
		out, err := db.BatchGetItem(context.Background(), &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {Keys: keys, ProjectionExpression: aws.String("equipmentNumber")}}})
		if err != nil {
			fail(err)
		}
		for _, it := range out.Responses[table] {
			delete(pending, byKey[it["equipmentNumber"].(*types.AttributeValueMemberS).Value])
		}
		if len(out.Responses[table]) < len(batch) {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func waitHealthy(api string) {
	for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(api + "/_local/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	fail(fmt.Errorf("local stack not healthy"))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// hookReceiver is a webhook receiver that notes when each reference first arrived.
type hookReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	first map[string]time.Time
	times []time.Time
}

func newHookReceiver() *hookReceiver {
	h := &hookReceiver{first: map[string]time.Time{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		var env struct {
			PublicReferenceID string `json:"publicReferenceId"`
		}
		json.NewDecoder(r.Body).Decode(&env)
		h.mu.Lock()
		if _, ok := h.first[env.PublicReferenceID]; !ok {
			h.first[env.PublicReferenceID] = now
		}
		h.times = append(h.times, now)
		h.mu.Unlock()
	}))
	return h
}

// latencies are the times from each 202 to the reference's first delivery, sorted.
func (h *hookReceiver) latencies(sent map[string]time.Time) []time.Duration {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		h.mu.Lock()
		n := 0
		for ref := range sent {
			if _, ok := h.first[ref]; ok {
				n++
			}
		}
		h.mu.Unlock()
		if n == len(sent) {
			break
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []time.Duration
	for ref, at := range sent {
		if got, ok := h.first[ref]; ok {
			out = append(out, got.Sub(at))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// createChannel makes a channel of the shipping agent to url, for notifications of one type.
func (c *client) createChannel(u, filter string) {
	body, _ := json.Marshal(map[string]any{"name": "bench " + filter, "url": u, "filter": []string{filter}})
	req, _ := http.NewRequest("POST", c.api+"/certified-pickup/v1/notification-channels", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Ocp-Apim-Subscription-Key", c.sa.Credentials.SubscriptionKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		fail(fmt.Errorf("create channel answered %d", resp.StatusCode))
	}
}

// deliveryBurst is how many notifications the delivery-rate measurement stores at once.
const deliveryBurst = 400

// deliveryRate stores a burst of notifications for the shipping agent at once and measures the
// deliveries a second its channel receives, beside the 20-a-second cap (contract §9).
func deliveryRate(state localstack.State, c *client) {
	st := store.New((&localstack.Backends{DynamoEndpoint: state.DynamoEndpoint}).DynamoDB(), state.Table)
	hooks := newHookReceiver()
	defer hooks.Close()
	c.createChannel(hooks.URL, "ReleaseRight/Update")
	before := 0
	now := time.Now().UTC()
	var ns []notification.Notification
	for i := range deliveryBurst {
		ref := uuid.NewString()
		msg := fmt.Sprintf(`{"publicReferenceId":%q,"externalReferenceId":null,"receiverId":%q,"senderId":null,"timestamp":%q,"type":"ReleaseRight","event":"Update","errors":[],"warnings":[],"body":{"portLoCode":"BEANR","equipmentNumber":"CSQU3054383","billOfLadingNumbers":["RATE%d"]}}`,
			ref, c.sa.NxtEntityID, now.Format(time.RFC3339Nano), i)
		ns = append(ns, notification.Notification{NxtEntityID: c.sa.NxtEntityID, PublicReferenceID: ref, StoredOn: now.Add(time.Duration(i) * time.Microsecond),
			Message: msg, Type: "ReleaseRight", Event: "Update", Seq: "000#00"})
	}
	if err := st.PutNotifications(context.Background(), ns); err != nil {
		fail(err)
	}
	var times []time.Time
	for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		hooks.mu.Lock()
		times = append([]time.Time(nil), hooks.times[before:]...)
		hooks.mu.Unlock()
		if len(times) >= deliveryBurst {
			break
		}
	}
	if len(times) < deliveryBurst {
		fail(fmt.Errorf("only %d of %d burst notifications delivered", len(times), deliveryBurst))
	}
	span := times[len(times)-1].Sub(times[0]).Seconds()
	rate := float64(len(times)-1) / span
	fmt.Printf("deliveries to one channel, a burst of %d notifications: %.1f/s beside the cap of 20/s (ratio %.2f)\n", deliveryBurst, rate, rate/20)
}
