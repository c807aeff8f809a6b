package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamPoller does locally what a DynamoDB stream event source mapping does in AWS: it reads each
// shard in order, hands the records that pass the filter to the consumer as an events.DynamoDBEvent,
// and on a failure retries from the first failed record (the consumer reports its sequence number,
// or the whole batch when the function failed). After MaxRetries the failing record goes to OnFailure
// (the failure destination) and the shard moves on, as with bisect-on-error and an on-failure
// destination in AWS.
type StreamPoller struct {
	Streams    *dynamodbstreams.Client
	StreamArn  string
	BatchSize  int
	Filter     Filter
	Invoker    Invoker
	MaxRetries int // catalog.RetryUntilExpired (-1): never give up on a record
	RetryDelay time.Duration
	OnFailure  func(ctx context.Context, failed []events.DynamoDBEventRecord, reason string)
	Log        *slog.Logger
}

// Run follows every shard of the stream until ctx ends.
func (p *StreamPoller) Run(ctx context.Context) {
	started := map[string]bool{}
	for ctx.Err() == nil {
		out, err := p.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.StreamArn)})
		if err != nil {
			if ctx.Err() == nil {
				p.Log.Error("describe stream", "error", err.Error())
			}
			sleep(ctx, time.Second)
			continue
		}
		for _, sh := range out.StreamDescription.Shards {
			id := aws.ToString(sh.ShardId)
			if !started[id] {
				started[id] = true
				go p.followShard(ctx, id)
			}
		}
		sleep(ctx, 5*time.Second)
	}
}

func (p *StreamPoller) followShard(ctx context.Context, shardID string) {
	it, err := p.Streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(p.StreamArn), ShardId: aws.String(shardID), ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		if ctx.Err() == nil {
			p.Log.Error("shard iterator", "shard", shardID, "error", err.Error())
		}
		return
	}
	iter := it.ShardIterator
	for iter != nil && ctx.Err() == nil {
		out, err := p.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(int32(p.BatchSize))})
		if err != nil {
			if ctx.Err() == nil {
				p.Log.Error("get records", "shard", shardID, "error", err.Error())
				sleep(ctx, time.Second)
			}
			continue
		}
		var batch []events.DynamoDBEventRecord
		for _, r := range out.Records {
			rec := convertRecord(r, p.StreamArn)
			if p.Filter.Match(rec) {
				batch = append(batch, rec)
			}
		}
		if len(batch) > 0 {
			p.deliver(ctx, batch)
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 {
			sleep(ctx, 200*time.Millisecond)
		}
	}
}

func (p *StreamPoller) deliver(ctx context.Context, batch []events.DynamoDBEventRecord) {
	attempt := 0
	for len(batch) > 0 && ctx.Err() == nil {
		payload, _ := json.Marshal(events.DynamoDBEvent{Records: batch})
		out, err := p.Invoker.Invoke(ctx, payload)
		from, reason := len(batch), ""
		var fe *FunctionError
		switch {
		case err != nil && !errors.As(err, &fe) && ctx.Err() != nil:
			return
		case err != nil:
			from, reason = 0, err.Error()
		default:
			var resp events.DynamoDBEventResponse
			if len(out) > 0 && string(out) != "null" {
				if jerr := json.Unmarshal(out, &resp); jerr != nil {
					from, reason = 0, "malformed batch response"
				}
			}
			for _, f := range resp.BatchItemFailures {
				for i, r := range batch {
					if r.Change.SequenceNumber == f.ItemIdentifier && i < from {
						from, reason = i, "record reported as failed"
					}
				}
			}
		}
		if from == len(batch) {
			return
		}
		// Records before the first failure are done; retry from it.
		if from > 0 {
			attempt = 0
		}
		batch = batch[from:]
		attempt++
		if p.MaxRetries >= 0 && attempt > p.MaxRetries {
			// Bisecting on error narrows a failing batch down to the record that fails: only that
			// one goes to the failure destination, and the shard goes on with the rest.
			p.Log.Error("stream record sent to the failure destination", "sequenceNumber", batch[0].Change.SequenceNumber, "reason", reason)
			if p.OnFailure != nil {
				p.OnFailure(context.WithoutCancel(ctx), batch[:1], reason)
			}
			batch, attempt = batch[1:], 0
			continue
		}
		sleep(ctx, p.RetryDelay)
	}
}

func convertRecord(r stypes.Record, streamArn string) events.DynamoDBEventRecord {
	rec := events.DynamoDBEventRecord{
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSource:    "aws:dynamodb",
		AWSRegion:      Region,
		EventSourceArn: streamArn,
	}
	if r.UserIdentity != nil {
		rec.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	if rec.EventName != "INSERT" && rec.EventName != "MODIFY" && rec.EventName != "REMOVE" {
		// DynamoDB Local reports TTL deletions with an event name the SDK does not know; AWS sends
		// REMOVE by the DynamoDB service principal.
		rec.EventName = "REMOVE"
		rec.UserIdentity = &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
	}
	if d := r.Dynamodb; d != nil {
		rec.Change = events.DynamoDBStreamRecord{
			Keys:           convertMap(d.Keys),
			NewImage:       convertMap(d.NewImage),
			OldImage:       convertMap(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return rec
}

func convertMap(m map[string]stypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = convertValue(v)
	}
	return out
}

func convertValue(v stypes.AttributeValue) events.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *stypes.AttributeValueMemberS:
		return events.NewStringAttribute(x.Value)
	case *stypes.AttributeValueMemberN:
		return events.NewNumberAttribute(x.Value)
	case *stypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(x.Value)
	case *stypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(x.Value)
	case *stypes.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *stypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(x.Value)
	case *stypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(x.Value)
	case *stypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(x.Value)
	case *stypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = convertValue(e)
		}
		return events.NewListAttribute(l)
	case *stypes.AttributeValueMemberM:
		return events.NewMapAttribute(convertMap(x.Value))
	case nil:
		// DynamoDB Local's stream leaves some nested values of an item unset (seen with binary
		// values inside a list of maps); a consumer reading such an attribute sees NULL.
		return events.NewNullAttribute()
	}
	panic(fmt.Sprintf("unknown attribute value %T", v))
}

// LatestStreamArn finds the table's stream.
func LatestStreamArn(ctx context.Context, c *dynamodbstreams.Client, table string) (string, error) {
	out, err := c.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String(table)})
	if err != nil {
		return "", err
	}
	if len(out.Streams) == 0 {
		return "", fmt.Errorf("table %s has no stream", table)
	}
	return aws.ToString(out.Streams[len(out.Streams)-1].StreamArn), nil
}
