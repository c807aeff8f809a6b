package awsedge

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// FIFOQueue sends to an SQS FIFO queue (pipeline.Queue).
type FIFOQueue struct {
	Client *sqs.Client
	URL    string
}

// Send implements pipeline.Queue.
func (q FIFOQueue) Send(ctx context.Context, group, dedup string, body []byte) error {
	_, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body)),
		MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(dedup),
	})
	return err
}

// SQS makes the SQS client.
func SQS(cfg aws.Config) *sqs.Client { return sqs.NewFromConfig(cfg) }

// Queue is the FIFO queue whose URL the named environment variable holds.
func Queue(cfg aws.Config, urlEnv string) FIFOQueue {
	return FIFOQueue{Client: SQS(cfg), URL: MustEnv(urlEnv)}
}
