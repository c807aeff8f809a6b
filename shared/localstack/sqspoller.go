package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSPoller does locally what a Lambda event source mapping does in AWS: it receives batches,
// invokes the consumer with an events.SQSEvent, deletes what succeeded and leaves the reported
// failures (or the whole batch, when the function failed) for redelivery; the queue's redrive
// policy moves a message that keeps failing to its DLQ.
type SQSPoller struct {
	Client    *sqs.Client
	QueueURL  string
	QueueArn  string
	BatchSize int
	Invoker   Invoker
	Log       *slog.Logger
	// RetryDelay makes a failed message visible again sooner than the queue's visibility timeout
	// (which is sized for AWS: six times the function timeout), so local retries take seconds.
	RetryDelay time.Duration
	// KeepVisibility leaves failed messages as the consumer set them (catalog.QueueTrigger's
	// HoldsVisibility), as Lambda does.
	KeepVisibility bool
}

// Run polls until ctx ends.
func (p *SQSPoller) Run(ctx context.Context) {
	for ctx.Err() == nil {
		out, err := p.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.QueueURL),
			MaxNumberOfMessages:         int32(p.BatchSize),
			WaitTimeSeconds:             1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() == nil {
				p.Log.Error("receive", "queue", p.QueueURL, "error", err.Error())
				sleep(ctx, time.Second)
			}
			continue
		}
		if len(out.Messages) > 0 {
			p.deliver(ctx, out.Messages)
		}
	}
}

func (p *SQSPoller) deliver(ctx context.Context, msgs []sqstypes.Message) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId:         aws.ToString(m.MessageId),
			ReceiptHandle:     aws.ToString(m.ReceiptHandle),
			Body:              aws.ToString(m.Body),
			Md5OfBody:         aws.ToString(m.MD5OfBody),
			Attributes:        m.Attributes,
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSourceARN:    p.QueueArn,
			EventSource:       "aws:sqs",
			AWSRegion:         "eu-west-1",
		}
		for k, a := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: a.StringValue, BinaryValue: a.BinaryValue, DataType: aws.ToString(a.DataType)}
		}
		ev.Records = append(ev.Records, rec)
	}
	payload, _ := json.Marshal(ev)
	out, err := p.Invoker.Invoke(ctx, payload)
	failed := map[string]bool{}
	if err != nil {
		// The whole batch failed: every message comes back after the retry delay.
		var fe *FunctionError
		if !errors.As(err, &fe) && ctx.Err() != nil {
			return
		}
		p.Log.Warn("consumer failed; batch will be retried", "queue", p.QueueURL, "error", err.Error())
		for _, m := range msgs {
			failed[aws.ToString(m.MessageId)] = true
		}
	} else {
		var resp events.SQSEventResponse
		if len(out) > 0 && string(out) != "null" {
			if err := json.Unmarshal(out, &resp); err != nil {
				p.Log.Error("malformed batch response; retrying the batch", "queue", p.QueueURL, "error", err.Error())
				for _, m := range msgs {
					failed[aws.ToString(m.MessageId)] = true
				}
			}
		}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}
	var del []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		id := aws.ToString(m.MessageId)
		if failed[id] {
			if p.KeepVisibility {
				continue
			}
			_, _ = p.Client.ChangeMessageVisibility(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(p.QueueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(p.RetryDelay.Seconds()),
			})
			continue
		}
		del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(del) > 0 {
		if _, err := p.Client.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: del}); err != nil {
			p.Log.Error("delete processed messages", "queue", p.QueueURL, "error", err.Error())
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
