package awsedge

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/portcommunity/cpu/shared/commands"
)

// FIFOQueue sends to an SQS FIFO queue (commands.Queue), ten messages a call.
type FIFOQueue struct {
	Client *sqs.Client
	URL    string
}

// sendAttempts bounds the retries of entries SQS reports as failed (throttling, say).
const sendAttempts = 4

// Send implements commands.Queue with SendMessageBatch. A batch holds at most one message of each
// group (container), and the entries SQS reports failed are sent again before the next batch: a
// message is never sent before the one of its container it follows, so the queue keeps the order.
func (q FIFOQueue) Send(ctx context.Context, msgs ...commands.Message) error {
	for len(msgs) > 0 {
		var batch, later []commands.Message
		groups := map[string]bool{}
		for i, m := range msgs {
			if len(batch) == 10 {
				later = append(later, msgs[i:]...)
				break
			}
			if groups[m.Group] {
				later = append(later, m)
				continue
			}
			groups[m.Group] = true
			batch = append(batch, m)
		}
		if err := q.sendBatch(ctx, batch); err != nil {
			return err
		}
		msgs = later
	}
	return nil
}

// SendPacked sends ten messages a call whatever their groups: SQS keeps the order of a batch's
// entries within a group, so a group's messages keep their order unless SQS refuses some entries
// of a batch and accepts later ones of the same group (sent again, those come after). For delivery
// jobs, whose receivers order by the envelope's timestamp, that rare reorder is worth a tenth of
// the calls; commands use Send.
func (q FIFOQueue) SendPacked(ctx context.Context, msgs ...commands.Message) error {
	for len(msgs) > 0 {
		n := min(10, len(msgs))
		if err := q.sendBatch(ctx, msgs[:n]); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

func (q FIFOQueue) sendBatch(ctx context.Context, pending []commands.Message) error {
	for attempt := 1; len(pending) > 0; attempt++ {
		entries := make([]types.SendMessageBatchRequestEntry, len(pending))
		for i, m := range pending {
			entries[i] = types.SendMessageBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(m.Body)),
				MessageGroupId: aws.String(m.Group), MessageDeduplicationId: aws.String(m.Dedup),
			}
		}
		out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if err != nil {
			return err
		}
		var again []commands.Message
		for _, f := range out.Failed {
			i, _ := strconv.Atoi(aws.ToString(f.Id))
			again = append(again, pending[i])
		}
		if len(again) > 0 && attempt == sendAttempts {
			return fmt.Errorf("%d messages not queued: %s", len(again), aws.ToString(out.Failed[0].Message))
		}
		pending = again
	}
	return nil
}

// SQS makes the SQS client.
func SQS(cfg aws.Config) *sqs.Client { return sqs.NewFromConfig(cfg) }

// Queue is the FIFO queue whose URL the named environment variable holds.
func Queue(cfg aws.Config, urlEnv string) FIFOQueue {
	return FIFOQueue{Client: SQS(cfg), URL: MustEnv(urlEnv)}
}
