package localstack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
)

// TestStreamPoller: only records passing the filter reach the consumer, in order; a record that
// fails once is retried (with the records after it) and applied; a record that always fails goes to
// the failure destination after the retries, and the shard moves on past it.
func TestStreamPoller(t *testing.T) {
	b := backends(t)
	ctx := context.Background()
	db := b.DynamoDB()
	table := "stream-probe"
	if err := localstack.CreateTable(ctx, db, table, catalog.SingleTable); err != nil {
		t.Fatal(err)
	}
	put := func(i int, typ string) {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "P#" + strconv.Itoa(i)}, "sk": &types.AttributeValueMemberS{Value: "S"},
			"type": &types.AttributeValueMemberS{Value: typ}, "n": &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 12; i++ {
		typ := "Outcome"
		if i%3 == 0 {
			typ = "Other"
		}
		put(i, typ)
	}
	arn, err := localstack.LatestStreamArn(ctx, b.Streams(), table)
	if err != nil {
		t.Fatal(err)
	}
	filter, err := localstack.ParseFilter(`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"type":{"S":["Outcome"]}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var applied []string
	seen := map[string]int{}
	var failedToDestination []events.DynamoDBEventRecord
	consumer := func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range ev.Records {
			n := r.Change.NewImage["n"].Number()
			seen[n]++
			if r.Change.NewImage["type"].String() != "Outcome" {
				t.Errorf("record %s passed the filter", n)
			}
			// Record 5 always fails; record 8 fails on its first delivery only.
			if n == "5" || (n == "8" && seen[n] == 1) {
				return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}}, nil
			}
			applied = append(applied, n)
		}
		return events.DynamoDBEventResponse{}, nil
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	p := &localstack.StreamPoller{
		Streams: b.Streams(), StreamArn: arn, BatchSize: 100, Filter: filter, Invoker: inProcess{lambda.NewHandler(consumer)},
		MaxRetries: 2, RetryDelay: 50 * time.Millisecond, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		OnFailure: func(_ context.Context, failed []events.DynamoDBEventRecord, _ string) {
			mu.Lock()
			failedToDestination = append(failedToDestination, failed...)
			mu.Unlock()
		},
	}
	go p.Run(pctx)
	want := "[1 2 4 7 8 10 11]"
	testenv.Eventually(20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(applied) == 7
	})
	mu.Lock()
	defer mu.Unlock()
	if got := slicesString(applied); got != want {
		t.Fatalf("applied %s, want %s", got, want)
	}
	if seen["5"] != 3 {
		t.Errorf("record 5 delivered %d times, want 1 + 2 retries", seen["5"])
	}
	// Bisecting isolates the failing record: it alone reaches the failure destination.
	if len(failedToDestination) != 1 || failedToDestination[0].Change.NewImage["n"].Number() != "5" {
		t.Errorf("failure destination got %d records", len(failedToDestination))
	}
}

func slicesString(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}

func TestFilterOperators(t *testing.T) {
	rec := map[string]any{"eventName": "INSERT", "dynamodb": map[string]any{"NewImage": map[string]any{"type": map[string]any{"S": "Outcome#1"}}}}
	for pattern, want := range map[string]bool{
		``:                                  true,
		`{"eventName":["INSERT","MODIFY"]}`: true,
		`{"eventName":["REMOVE"]}`:          false,
		`{"dynamodb":{"NewImage":{"type":{"S":[{"prefix":"Outcome"}]}}}}`: true,
		`{"dynamodb":{"NewImage":{"type":{"S":[{"prefix":"Release"}]}}}}`: false,
		`{"dynamodb":{"OldImage":[{"exists":false}]}}`:                    true,
		`{"dynamodb":{"NewImage":[{"exists":true}]}}`:                     true,
		`{"eventName":[{"anything-but":["REMOVE"]}]}`:                     true,
		`{"dynamodb":{"NewImage":{"missing":{"S":["x"]}}}}`:               false,
	} {
		f, err := localstack.ParseFilter(pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(rec); got != want {
			t.Errorf("%s: got %v", pattern, got)
		}
	}
}

// TestFixturesDecode: the event fixtures are what aws-lambda-go decodes and what the filters see.
func TestFixturesDecode(t *testing.T) {
	root, _ := localstack.FindRoot()
	var stream events.DynamoDBEvent
	raw, err := os.ReadFile(filepath.Join(root, "events", "stream", "insert.json"))
	if err != nil || json.Unmarshal(raw, &stream) != nil || len(stream.Records) != 1 {
		t.Fatalf("stream fixture: %v", err)
	}
	f, _ := localstack.ParseFilter(`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"type":{"S":["Outcome"]}}}}`)
	if !f.Match(stream.Records[0]) {
		t.Error("the outcome filter does not match the stream fixture")
	}
	var batch events.SQSEvent
	raw, err = os.ReadFile(filepath.Join(root, "events", "sqs", "batch.json"))
	if err != nil || json.Unmarshal(raw, &batch) != nil || batch.Records[0].Attributes["MessageGroupId"] == "" {
		t.Fatalf("sqs fixture: %v", err)
	}
}
