package localstack

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TTLSweeper does locally what DynamoDB's time to live does in AWS: it deletes the items whose TTL
// attribute (epoch seconds) has passed. DynamoDB Local's own TTL cannot be used: it never deletes
// an item that lacks the key of a sparse index and then stops deleting for the whole table, and
// the platform's indexes are sparse on purpose. A Scan is fine here: it runs on a local table
// of demo data, never in AWS.
type TTLSweeper struct {
	DB        *dynamodb.Client
	Table     string
	Attribute string
	Every     time.Duration
	Log       *slog.Logger
}

// Run sweeps until ctx ends.
func (s *TTLSweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := s.Sweep(ctx, now); err != nil && ctx.Err() == nil {
				s.Log.Error("ttl sweep", "error", err.Error())
			} else if n > 0 {
				s.Log.Info("ttl sweep deleted expired items", "count", n)
			}
		}
	}
}

// Sweep deletes every item whose TTL attribute is before now and says how many it deleted.
func (s *TTLSweeper) Sweep(ctx context.Context, now time.Time) (int, error) {
	in := &dynamodb.ScanInput{
		TableName:                 aws.String(s.Table),
		FilterExpression:          aws.String("#ttl < :now"),
		ProjectionExpression:      aws.String("pk, sk"),
		ExpressionAttributeNames:  map[string]string{"#ttl": s.Attribute},
		ExpressionAttributeValues: map[string]dtypes.AttributeValue{":now": &dtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
	}
	deleted := 0
	for {
		out, err := s.DB.Scan(ctx, in)
		if err != nil {
			return deleted, err
		}
		for len(out.Items) > 0 {
			n := min(25, len(out.Items))
			reqs := make([]dtypes.WriteRequest, n)
			for i, key := range out.Items[:n] {
				reqs[i] = dtypes.WriteRequest{DeleteRequest: &dtypes.DeleteRequest{Key: key}}
			}
			batch := map[string][]dtypes.WriteRequest{s.Table: reqs}
			for len(batch) > 0 {
				res, err := s.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: batch})
				if err != nil {
					return deleted, err
				}
				batch = res.UnprocessedItems
			}
			deleted += n
			out.Items = out.Items[n:]
		}
		if len(out.LastEvaluatedKey) == 0 {
			return deleted, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
