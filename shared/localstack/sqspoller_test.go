package localstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
)

// inProcess invokes a handler exactly as the Lambda runtime would, through aws-lambda-go.
type inProcess struct{ h lambda.Handler }

func (p inProcess) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := p.h.Invoke(ctx, payload)
	if err != nil {
		return nil, &localstack.FunctionError{Type: "Handler", Message: err.Error()}
	}
	return out, nil
}

func backends(t *testing.T) *localstack.Backends {
	root, _ := localstack.FindRoot()
	b, err := localstack.StartBackends(context.Background(), filepath.Join(root, ".tools"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b
}

// TestSQSPollerPartialFailuresAndDLQ: a consumer reports one poison message as failed in every
// batch; its batch-mates are applied once each, and after MaxReceives the poison one is in the DLQ.
func TestSQSPollerPartialFailuresAndDLQ(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		t.Run("fifo="+strconv.FormatBool(fifo), func(t *testing.T) {
			b := backends(t)
			client := b.SQS()
			ctx := context.Background()
			q := catalog.Queue{Name: "probe", FIFO: fifo, MaxReceives: 3, VisibilityTimeout: 30 * time.Second}
			urls := localstack.QueueURLs{}
			if err := localstack.CreateQueue(ctx, client, q, urls); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			applied := map[string]int{}
			poisonSeen := 0
			consumer := func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				var resp events.SQSEventResponse
				mu.Lock()
				defer mu.Unlock()
				for _, r := range ev.Records {
					if r.Body == "poison" {
						poisonSeen++
						resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
						continue
					}
					applied[r.Body]++
				}
				return resp, nil
			}
			for i := 0; i < 9; i++ {
				body := "m" + strconv.Itoa(i)
				if i == 4 {
					body = "poison"
				}
				in := &sqs.SendMessageInput{QueueUrl: aws.String(urls["probe"]), MessageBody: aws.String(body)}
				if fifo {
					// Each message its own group, so the poison one holds back no one.
					in.MessageGroupId, in.MessageDeduplicationId = aws.String("g"+strconv.Itoa(i)), aws.String(body)
				}
				if _, err := client.SendMessage(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			pctx, stop := context.WithCancel(ctx)
			defer stop()
			p := &localstack.SQSPoller{
				Client: client, QueueURL: urls["probe"], QueueArn: "arn:aws:sqs:eu-west-1:000000000000:probe", BatchSize: 10,
				Invoker: inProcess{lambda.NewHandler(consumer)}, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), RetryDelay: time.Second,
			}
			go p.Run(pctx)
			deadline := time.Now().Add(30 * time.Second)
			var dlqBodies []string
			for time.Now().Before(deadline) && len(dlqBodies) == 0 {
				out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(urls[q.DLQName()]), WaitTimeSeconds: 1})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range out.Messages {
					dlqBodies = append(dlqBodies, aws.ToString(m.Body))
				}
			}
			stop()
			mu.Lock()
			defer mu.Unlock()
			if len(dlqBodies) != 1 || dlqBodies[0] != "poison" {
				t.Fatalf("DLQ holds %v", dlqBodies)
			}
			if poisonSeen != q.MaxReceives {
				t.Errorf("poison delivered %d times, want %d", poisonSeen, q.MaxReceives)
			}
			if len(applied) != 8 {
				t.Errorf("applied %d distinct messages, want 8: %v", len(applied), applied)
			}
			for body, n := range applied {
				if n != 1 {
					t.Errorf("%s applied %d times", body, n)
				}
			}
		})
	}
}

// TestSQSPollerFunctionErrorRetriesWholeBatch: a consumer that fails outright gets the whole
// batch again, and succeeds on a later delivery.
func TestSQSPollerFunctionErrorRetriesWholeBatch(t *testing.T) {
	b := backends(t)
	client := b.SQS()
	ctx := context.Background()
	urls := localstack.QueueURLs{}
	q := catalog.Queue{Name: "flaky", MaxReceives: 5, VisibilityTimeout: 30 * time.Second}
	if err := localstack.CreateQueue(ctx, client, q, urls); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(urls["flaky"]), MessageBody: aws.String(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	calls, done := 0, map[string]bool{}
	consumer := func(_ context.Context, ev events.SQSEvent) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errors.New("database throttled")
		}
		for _, r := range ev.Records {
			done[r.Body] = true
		}
		return nil
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	p := &localstack.SQSPoller{Client: client, QueueURL: urls["flaky"], BatchSize: 10,
		Invoker: inProcess{lambda.NewHandler(consumer)}, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), RetryDelay: time.Second}
	go p.Run(pctx)
	if testenv.Eventually(20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(done) == 3
	}) {
		return
	}
	mu.Lock()
	raw, _ := json.Marshal(done)
	mu.Unlock()
	t.Fatalf("after a failed batch, applied %s", raw)
}
