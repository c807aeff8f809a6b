package awsedge_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/consumer"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestParkListAndRedrive: a parked message carries its reason; the support tooling lists it and
// moves it back to its queue in its group, and the DLQ is then empty.
func TestParkListAndRedrive(t *testing.T) {
	ctx := context.Background()
	client := testenv.Backends().SQS()
	q := catalog.Queue{Name: "dl-" + uuid.NewString()[:8], FIFO: true, MaxReceives: 5, VisibilityTimeout: 30 * time.Second}
	urls := localstack.QueueURLs{}
	if err := localstack.CreateQueue(ctx, client, q, urls); err != nil {
		t.Fatal(err)
	}
	dlq := awsedge.DeadLetterQueue{Client: client, URL: urls[q.DLQName()], ParkedBy: "command-consumer"}
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	groups := []string{"BEANR#CSQU3054383", "BEANR#CSQU3054383", "BEANR#CAIU7654324"}
	for i, body := range []string{`{"publicReferenceId":"a"}`, `{"publicReferenceId":"b"}`, `{"publicReferenceId":"c"}`} {
		dl := consumer.DeadLetter{MessageID: "m" + string(rune('1'+i)), Group: groups[i], Body: body,
			Failure: consumer.FailureRetriesExhausted, Reason: "throttled on each of 5 receives", ReceiveCount: 5, ParkedAt: at}
		if err := dlq.Park(ctx, dl); err != nil {
			t.Fatal(err)
		}
		if err := dlq.Park(ctx, dl); err != nil { // a retried batch parks it again: one copy stays
			t.Fatal(err)
		}
	}
	ops := awsedge.DeadLetterOps{Client: client}
	if total, err := ops.Count(ctx, urls[q.DLQName()]); err != nil || total != 3 {
		t.Fatalf("count: %d %v", total, err)
	}
	// A FIFO queue hands out a group's messages in order, the next only after the one before is
	// gone: a listing sees at least the oldest parked message of each container.
	parked, err := ops.List(ctx, urls[q.DLQName()], 100)
	if err != nil || len(parked) < 2 {
		t.Fatalf("list: %d messages, %v", len(parked), err)
	}
	seen := map[string]bool{}
	for _, p := range parked {
		seen[p.Group] = true
		if p.Failure != consumer.FailureRetriesExhausted || p.Reason != "throttled on each of 5 receives" || p.ReceiveCount != "5" ||
			p.ParkedAt != "2026-11-21T08:00:00Z" {
			t.Errorf("parked message lacks its context: %+v", p)
		}
	}
	if len(seen) != 2 {
		t.Errorf("listing missed a container: %v", seen)
	}
	n, err := ops.Redrive(ctx, urls[q.DLQName()], urls[q.Name])
	if err != nil || n != 3 {
		t.Fatalf("redrive: %d, %v", n, err)
	}
	byGroup := map[string][]string{}
	for deadline, got := time.Now().Add(20*time.Second), 0; got < 3 && time.Now().Before(deadline); {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(urls[q.Name]), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameMessageGroupId}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			g := m.Attributes["MessageGroupId"]
			byGroup[g] = append(byGroup[g], aws.ToString(m.Body))
			got++
			client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(urls[q.Name]), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if strings.Join(byGroup["BEANR#CSQU3054383"], " ") != `{"publicReferenceId":"a"} {"publicReferenceId":"b"}` ||
		strings.Join(byGroup["BEANR#CAIU7654324"], " ") != `{"publicReferenceId":"c"}` {
		t.Fatalf("back in the queue, in their groups and order: %v", byGroup)
	}
	// List hides what it shows for a while; a fresh queue attribute read tells the DLQ is empty.
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(urls[q.DLQName()]),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil || attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("DLQ after redrive: %v %v", attrs.Attributes, err)
	}
}

// TestRedriveInAWSStartsAMoveTask: against SQS itself the redrive is one StartMessageMoveTask from
// the DLQ to the named source queue (the consumer's own parked messages have no recorded source).
// The SDK's real request is checked on a loopback server speaking SQS's JSON protocol.
func TestRedriveInAWSStartsAMoveTask(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		target := r.Header.Get("X-Amz-Target")
		mu.Lock()
		calls = append(calls, target+" "+string(raw))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		switch {
		case strings.HasSuffix(target, "GetQueueAttributes"):
			var in struct{ QueueUrl string }
			json.Unmarshal(raw, &in)
			name := in.QueueUrl[strings.LastIndex(in.QueueUrl, "/")+1:]
			io.WriteString(w, `{"Attributes":{"QueueArn":"arn:aws:sqs:eu-west-1:123456789012:`+name+`"}}`)
		case strings.HasSuffix(target, "StartMessageMoveTask"):
			io.WriteString(w, `{"TaskHandle":"h1"}`)
		default:
			w.WriteHeader(400)
		}
	}))
	defer srv.Close()
	client := sqs.New(sqs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	ops := awsedge.DeadLetterOps{Client: client, MoveTasks: true}
	n, err := ops.Redrive(context.Background(), srv.URL+"/123456789012/cpu-staging-commands-dlq.fifo", srv.URL+"/123456789012/cpu-staging-commands.fifo")
	if err != nil || n != -1 {
		t.Fatalf("redrive: %d %v", n, err)
	}
	last := calls[len(calls)-1]
	if !strings.Contains(last, "StartMessageMoveTask") || !strings.Contains(last, `"SourceArn":"arn:aws:sqs:eu-west-1:123456789012:cpu-staging-commands-dlq.fifo"`) ||
		!strings.Contains(last, `"DestinationArn":"arn:aws:sqs:eu-west-1:123456789012:cpu-staging-commands.fifo"`) {
		t.Fatalf("move task request: %s", last)
	}
}
