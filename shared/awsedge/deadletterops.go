package awsedge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Parked is a message in a dead-letter queue as an operator sees it.
type Parked struct {
	MessageID    string
	Group        string
	Body         string
	Failure      string // the consumer's failure kind; empty when SQS moved it (redrive policy)
	Reason       string
	ReceiveCount string
	ParkedAt     string
	// SourceArn is set by SQS when its redrive policy moved the message (the consumer crashed or
	// timed out on the last receive, so it could not park it with a reason).
	SourceArn string
}

// DeadLetterOps lists and redrives a queue's dead letters for the support tooling.
type DeadLetterOps struct {
	Client *sqs.Client
	// Moves with StartMessageMoveTask (AWS). When false, the redrive is done by receiving, sending
	// and deleting each message: the SQS stand-in of the local stack has no move tasks.
	MoveTasks bool
}

// listVisibility hides a listed message while the listing runs, so that it sees each message once.
const listVisibility = 30 * time.Second

// List returns up to max messages of a dead-letter queue without removing them. A FIFO queue
// hands out the messages of one group (container) in order, the next only once the one before is
// gone, so a listing shows at least the oldest parked message of every container; Count tells
// how many there are in all.
func (o DeadLetterOps) List(ctx context.Context, dlqURL string, max int) ([]Parked, error) {
	var out []Parked
	var held []types.Message
	// What the listing hid is made visible again at its end, so that a redrive right after a
	// listing finds every message.
	defer func() {
		for len(held) > 0 {
			n := min(10, len(held))
			entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, n)
			for i, m := range held[:n] {
				entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}
			}
			_, _ = o.Client.ChangeMessageVisibilityBatch(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(dlqURL), Entries: entries})
			held = held[n:]
		}
	}()
	for len(out) < max {
		res, err := o.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: int32(min(10, max-len(out))), WaitTimeSeconds: 1,
			VisibilityTimeout:           int32(listVisibility.Seconds()),
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return out, err
		}
		if len(res.Messages) == 0 {
			return out, nil
		}
		held = append(held, res.Messages...)
		for _, m := range res.Messages {
			attr := func(name string) string {
				if v, ok := m.MessageAttributes[name]; ok {
					return aws.ToString(v.StringValue)
				}
				return ""
			}
			out = append(out, Parked{
				MessageID: aws.ToString(m.MessageId), Group: m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)], Body: aws.ToString(m.Body),
				Failure: attr(AttrFailure), Reason: attr(AttrReason), ReceiveCount: attr(AttrReceiveCount), ParkedAt: attr(AttrParkedAt),
				SourceArn: m.Attributes[string(types.MessageSystemAttributeNameDeadLetterQueueSourceArn)],
			})
		}
	}
	return out, nil
}

// Count is how many messages a queue holds, visible or in flight (SQS's approximate counts).
func (o DeadLetterOps) Count(ctx context.Context, url string) (int, error) {
	out, err := o.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, err
	}
	visible, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	hidden, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible + hidden, nil
}

// Redrive moves every message of a dead-letter queue back to its source queue, in order per
// message group. It returns how many messages it moved, or -1 when SQS moves them asynchronously
// (a move task; ListMessageMoveTasks tells its progress).
func (o DeadLetterOps) Redrive(ctx context.Context, dlqURL, sourceURL string) (int, error) {
	if o.MoveTasks {
		dlqArn, err := o.arn(ctx, dlqURL)
		if err != nil {
			return 0, err
		}
		sourceArn, err := o.arn(ctx, sourceURL)
		if err != nil {
			return 0, err
		}
		// The destination is named: the messages the consumer parked itself were sent, not moved
		// by SQS, so SQS does not know their source.
		_, err = o.Client.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqArn), DestinationArn: aws.String(sourceArn)})
		return -1, err
	}
	moved := 0
	for {
		res, err := o.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return moved, err
		}
		if len(res.Messages) == 0 {
			return moved, nil
		}
		for _, m := range res.Messages {
			in := &sqs.SendMessageInput{QueueUrl: aws.String(sourceURL), MessageBody: m.Body, MessageAttributes: m.MessageAttributes}
			if g := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; g != "" {
				// As SQS's move task does, a redriven message is a new message: a new deduplication
				// id, so that it is not dropped as a copy of the message it was.
				in.MessageGroupId, in.MessageDeduplicationId = aws.String(g), aws.String(aws.ToString(m.MessageId)+"-redrive-"+strconv.FormatInt(time.Now().UnixNano(), 36))
			}
			if _, err := o.Client.SendMessage(ctx, in); err != nil {
				return moved, fmt.Errorf("redrive %s: %w", aws.ToString(m.MessageId), err)
			}
			if _, err := o.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return moved, fmt.Errorf("delete %s after its redrive: %w", aws.ToString(m.MessageId), err)
			}
			moved++
		}
	}
}

// MoveTaskStatus lists the recent move tasks of a dead-letter queue (AWS only).
func (o DeadLetterOps) MoveTaskStatus(ctx context.Context, dlqURL string) ([]string, error) {
	if !o.MoveTasks {
		return nil, errors.New("move tasks exist only in AWS")
	}
	dlqArn, err := o.arn(ctx, dlqURL)
	if err != nil {
		return nil, err
	}
	res, err := o.Client.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlqArn)})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range res.Results {
		out = append(out, fmt.Sprintf("%s: %d of %d moved (started %s) %s", aws.ToString(t.Status), t.ApproximateNumberOfMessagesMoved,
			aws.ToInt64(t.ApproximateNumberOfMessagesToMove), time.UnixMilli(t.StartedTimestamp).UTC().Format(time.RFC3339), aws.ToString(t.FailureReason)))
	}
	return out, nil
}

func (o DeadLetterOps) arn(ctx context.Context, url string) (string, error) {
	out, err := o.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", err
	}
	return out.Attributes[string(types.QueueAttributeNameQueueArn)], nil
}
