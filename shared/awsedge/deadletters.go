package awsedge

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/portcommunity/cpu/shared/consumer"
)

// Message attributes a parked message carries, so that an operator listing the dead-letter queue
// sees why each message is there without searching the logs.
const (
	AttrFailure       = "cpu-failure"
	AttrReason        = "cpu-reason"
	AttrReceiveCount  = "cpu-receive-count"
	AttrParkedAt      = "cpu-parked-at"
	AttrSourceMessage = "cpu-source-message-id"
	AttrParkedBy      = "cpu-parked-by"
)

// DeadLetterQueue parks messages in a FIFO dead-letter queue (consumer.DeadLetters).
type DeadLetterQueue struct {
	Client *sqs.Client
	URL    string
	// ParkedBy names the function that parks (its Lambda name).
	ParkedBy string
}

// maxReasonChars keeps the reason attribute readable and far from SQS's 256 KiB message limit.
const maxReasonChars = 1000

// Park implements consumer.DeadLetters. The message keeps its group (so a redrive puts it back in
// its container's order) and is deduplicated on its original message id: parking it twice (a
// retried batch) leaves one copy.
func (q DeadLetterQueue) Park(ctx context.Context, dl consumer.DeadLetter) error {
	group := dl.Group
	if group == "" {
		group = "unknown"
	}
	reason := []rune(dl.Reason)
	if len(reason) > maxReasonChars {
		reason = append(reason[:maxReasonChars], '…')
	}
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	_, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(q.URL),
		MessageBody:            aws.String(dl.Body),
		MessageGroupId:         aws.String(group),
		MessageDeduplicationId: aws.String(dl.MessageID),
		MessageAttributes: map[string]types.MessageAttributeValue{
			AttrFailure:       str(dl.Failure),
			AttrReason:        str(string(reason)),
			AttrReceiveCount:  {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(dl.ReceiveCount))},
			AttrParkedAt:      str(dl.ParkedAt.UTC().Format(time.RFC3339Nano)),
			AttrSourceMessage: str(dl.MessageID),
			AttrParkedBy:      str(q.ParkedBy),
		},
	})
	return err
}
