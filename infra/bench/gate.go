package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/portcommunity/cpu/shared/apigw"
	"github.com/portcommunity/cpu/shared/gate"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

const (
	gateContainers  = 100
	gateValidations = 1000
)

// gateBench measures the terminal's gate validation through the local gateway beside E6 (the
// other synchronous read) in the same run, calls interleaved so both see the same machine, and
// counts the DynamoDB calls one validation makes (target: one Query, one write).
func gateBench(root string) {
	fmt.Println("== Gate validation on the local stack, beside E6 (the usage plan lifted)")
	dir, _ := os.MkdirTemp("", "cpu-bench-gate-")
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
	sa := &client{api: api, sa: seed.Entities[0]}
	sa.token = sa.getToken()
	term := &client{api: api, sa: seed.Entities[2]}
	term.token = term.getToken()

	// Containers released and discharged at terminal 01700, each with its visit and one release.
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	for i := 0; i < gateContainers; i++ {
		c := container("GATU", i)
		sa.release(c)
		term.post("/ingestion/v1/ingestion/"+term.sa.Credentials.IngestionID, map[string]any{"actionType": "Discharge", "equipmentNumber": c,
			"portLoCode": "BEANR", "terminalCode": "01700", "eventDateTimeUtc": at}, 202)
	}
	db := (&localstack.Backends{DynamoEndpoint: state.DynamoEndpoint}).DynamoDB()
	waitApplied(db, state.Table, "GATU", gateContainers, sa.sa.NxtEntityID)

	var gateLat, e6Lat []time.Duration
	body := map[string]any{"licensePlate": "1-ABC-123"}
	for i := 0; i < gateValidations; i++ {
		start := time.Now()
		term.post("/certified-pickup/v1/BEANR/containers/"+container("GATU", i%gateContainers)+"/pickup-validations", body, 200)
		gateLat = append(gateLat, time.Since(start))
		start = time.Now()
		term.get("/certified-pickup/v1/entities?" + url.Values{"NxtEntityId": {seed.Entities[i%len(seed.Entities)].NxtEntityID}}.Encode())
		e6Lat = append(e6Lat, time.Since(start))
	}
	p := func(ds []time.Duration, q int) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)*q/100]
	}
	fmt.Printf("gate validation through the gateway, %d calls: p50 %.1f ms, p99 %.1f ms\n", gateValidations, ms(p(gateLat, 50)), ms(p(gateLat, 99)))
	fmt.Printf("E6 by NxtEntityId, interleaved, %d calls:      p50 %.1f ms, p99 %.1f ms (gate/E6 at p50 %.2f, at p99 %.2f)\n",
		gateValidations, ms(p(e6Lat, 50)), ms(p(e6Lat, 99)), float64(p(gateLat, 50))/float64(p(e6Lat, 50)), float64(p(gateLat, 99))/float64(p(e6Lat, 99)))

	// The DynamoDB calls of one validation, counted on the handler itself against the same table.
	counter := &countingDB{API: db}
	h := &gate.Handler{Store: store.New(counter, state.Table), Ports: release.ParsePorts("BEANR"), Now: time.Now}
	req := &apigw.Request{PathParams: map[string]string{"portLoCode": "BEANR", "equipmentNumber": container("GATU", 0)},
		Body: []byte(`{"licensePlate":"1-ABC-123"}`), Caller: &apigw.Caller{EntityID: term.sa.NxtEntityID, Roles: term.sa.Roles}}
	const n = 100
	for i := 0; i < n; i++ {
		if _, err := h.Handle(context.Background(), req); err != nil {
			fail(err)
		}
	}
	fmt.Printf("DynamoDB calls per validation (%d validations): %.2f Query, %.2f GetItem, %.2f TransactWriteItems\n\n",
		n, float64(counter.queries.Load())/n, float64(counter.gets.Load())/n, float64(counter.writes.Load())/n)
}

// countingDB counts the calls of the gate's kinds.
type countingDB struct {
	store.API
	queries, gets, writes atomic.Int64
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.API.Query(ctx, in, opts...)
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.API.GetItem(ctx, in, opts...)
}

func (c *countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.writes.Add(1)
	return c.API.TransactWriteItems(ctx, in, opts...)
}

// post sends a JSON body with the client's credentials and insists on the status.
func (c *client) post(path string, body any, want int) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.api+path, bytes.NewReader(raw))
	c.headers(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		fail(fmt.Errorf("POST %s answered %d: %s", path, resp.StatusCode, out))
	}
}

func (c *client) get(path string) {
	req, _ := http.NewRequest("GET", c.api+path, nil)
	c.headers(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		fail(fmt.Errorf("GET %s answered %d", path, resp.StatusCode))
	}
}

func (c *client) headers(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Ocp-Apim-Subscription-Key", c.sa.Credentials.SubscriptionKey)
	req.Header.Set("Content-Type", "application/json")
}
