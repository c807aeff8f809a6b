package localstack

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/catalog"
)

// startTriggers starts a poller or timer for every function with a queue, stream or schedule
// trigger; they run until pctx ends.
func startTriggers(ctx, pctx context.Context, b *Backends, table string, urls QueueURLs, invokers map[string]Invoker, log *slog.Logger) error {
	sqsClient := b.SQS()
	for _, fn := range catalog.Functions() {
		switch t := fn.Trigger; {
		case t.Queue != nil:
			arn, err := queueArn(ctx, sqsClient, urls[t.Queue.Queue])
			if err != nil {
				return err
			}
			// Lambda polls a queue with several pollers at once (up to the mapping's maximum
			// concurrency); with one, a FIFO queue's groups would wait for each other here.
			for range max(1, min(t.Queue.MaxConcurrency, catalog.LocalPollers)) {
				p := &SQSPoller{Client: sqsClient, QueueURL: urls[t.Queue.Queue], QueueArn: arn, BatchSize: t.Queue.BatchSize,
					Invoker: invokers[fn.Name], Log: log.With("function", fn.Name), RetryDelay: time.Second, KeepVisibility: t.Queue.HoldsVisibility}
				go p.Run(pctx)
			}
		case t.Stream != nil:
			arn, err := LatestStreamArn(ctx, b.Streams(), table)
			if err != nil {
				return err
			}
			filter, err := ParseFilter(t.Stream.Filter)
			if err != nil {
				return err
			}
			// The failure destination, as the CDK stack's per-consumer queue.
			failures, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fn.Name + "-stream-failures")})
			if err != nil {
				return err
			}
			urls[fn.Name+"-stream-failures"] = aws.ToString(failures.QueueUrl)
			p := &StreamPoller{Streams: b.Streams(), StreamArn: arn, BatchSize: t.Stream.BatchSize, Filter: filter,
				Invoker: invokers[fn.Name], MaxRetries: t.Stream.Retries, RetryDelay: 500 * time.Millisecond, Log: log.With("function", fn.Name),
				OnFailure: failureDestination(sqsClient, aws.ToString(failures.QueueUrl), arn, t.Stream.Retries, log)}
			go p.Run(pctx)
		case t.Schedule != nil:
			go schedule(pctx, t.Schedule.Every, invokers[fn.Name], log.With("function", fn.Name))
		}
	}
	return nil
}

// failureDestination sends what Lambda's on-failure destination receives: the batch's coordinates.
func failureDestination(c *sqs.Client, url, streamArn string, retries int, log *slog.Logger) func(context.Context, []events.DynamoDBEventRecord, string) {
	return func(ctx context.Context, failed []events.DynamoDBEventRecord, reason string) {
		body, _ := json.Marshal(map[string]any{
			"requestContext":  map[string]any{"requestId": uuid.NewString(), "condition": "RetryAttemptsExhausted", "approximateInvokeCount": retries + 1},
			"responseContext": map[string]any{"functionError": reason},
			"timestamp":       time.Now().UTC().Format(time.RFC3339Nano),
			"DDBStreamBatchInfo": map[string]any{
				"startSequenceNumber": failed[0].Change.SequenceNumber,
				"endSequenceNumber":   failed[len(failed)-1].Change.SequenceNumber,
				"batchSize":           len(failed),
				"streamArn":           streamArn,
			},
		})
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(body))}); err != nil {
			log.Error("failure destination", "error", err.Error())
		}
	}
}

// schedule invokes a function periodically with a scheduled event, as an EventBridge rule does.
func schedule(ctx context.Context, every time.Duration, inv Invoker, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			payload, _ := json.Marshal(events.EventBridgeEvent{
				Version: "0", ID: uuid.NewString(), DetailType: "Scheduled Event", Source: "aws.events",
				Time: now.UTC(), Region: Region, Detail: json.RawMessage("{}"),
			})
			if _, err := inv.Invoke(ctx, payload); err != nil && ctx.Err() == nil {
				log.Error("scheduled invocation failed", "error", err.Error())
			}
		}
	}
}
