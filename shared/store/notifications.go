package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/release"
)

const (
	attrGSI2PK = "gsi2pk"
	attrGSI2SK = "gsi2sk"
	gsi2       = "gsi2"
	// storedOnLayout sorts as text in time order (fixed width).
	storedOnLayout = "2006-01-02T15:04:05.000000000Z"
)

func notifPK(receiver string) string { return "NOTIF#" + receiver }

// NotificationSK is the sort key of a notification: its time first, so a time window is a range.
func NotificationSK(storedOn time.Time, ref, seq string) string {
	return storedOn.UTC().Format(storedOnLayout) + "#" + ref + "#" + seq
}

// timeKey is the lowest sort key at a time (for ranges).
func timeKey(t time.Time) string { return t.UTC().Format(storedOnLayout) }

// PutNotifications writes notifications with BatchWriteItem. Keys and content are deterministic,
// so writing them again (a retried stream record) overwrites with the same item: no copies.
func (s *Store) PutNotifications(ctx context.Context, ns []notification.Notification) error {
	var reqs []types.WriteRequest
	for _, n := range ns {
		item, err := attributevalue.MarshalMapWithOptions(n, jsonTags)
		if err != nil {
			return err
		}
		sk := NotificationSK(n.StoredOn, n.PublicReferenceID, n.Seq)
		item[attrPK], item[attrSK], item[attrItemType] = str(notifPK(n.NxtEntityID)), str(sk), str("Notification")
		item["storedOn"] = str(n.StoredOn.UTC().Format(time.RFC3339Nano))
		// Every notification carries both index keys: DynamoDB Local never TTL-deletes an item that
		// lacks a GSI key (and then stops deleting for the whole table).
		rel := n.ReleaseID
		if rel == "" {
			rel = "-"
		}
		item[attrGSI1PK], item[attrGSI1SK] = str("NREF#"+n.PublicReferenceID), str(n.NxtEntityID+"#"+sk)
		item[attrGSI2PK], item[attrGSI2SK] = str("NREL#"+rel), str(n.NxtEntityID+"#"+sk)
		item["expiresAt"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(n.StoredOn.Add(notification.Retention).Unix(), 10)}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	return s.batchWrite(ctx, reqs)
}

// batchWrite writes with BatchWriteItem, 25 at a time, again for what DynamoDB left unprocessed.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		batch := map[string][]types.WriteRequest{s.table: reqs[:n]}
		reqs = reqs[n:]
		for attempt := 0; len(batch) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 8 {
					return fmt.Errorf("writes still unprocessed after %d attempts", attempt)
				}
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: batch})
			if err != nil {
				return err
			}
			batch = out.UnprocessedItems
		}
	}
	return nil
}

// QueryNotifications runs the query: on the receiver's partition by time range (newest first), or
// on an index by reference. It returns at most one page (bounded), filtered by event and container.
func (s *Store) QueryNotifications(ctx context.Context, q notification.Query) ([]notification.Notification, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(q.Limit)}
	vals := map[string]types.AttributeValue{}
	switch {
	case q.PublicRef != "":
		in.IndexName, in.KeyConditionExpression = aws.String(gsi1), aws.String("gsi1pk = :p")
		vals[":p"] = str("NREF#" + q.PublicRef)
	case q.ReleaseID != "":
		in.IndexName, in.KeyConditionExpression = aws.String(gsi2), aws.String("gsi2pk = :p")
		vals[":p"] = str("NREL#" + q.ReleaseID)
	default:
		in.KeyConditionExpression = aws.String("pk = :p AND sk BETWEEN :lo AND :hi")
		vals[":p"], vals[":lo"], vals[":hi"] = str(notifPK(q.Receiver)), str(timeKey(q.From)), str(timeKey(q.To.Add(-time.Nanosecond))+"#\uffff")
		var filters []string
		if q.Event != "" {
			filters = append(filters, "event = :e")
			vals[":e"] = str(q.Event)
		}
		if q.Equipment != "" {
			filters = append(filters, "equipmentNumber = :c")
			vals[":c"] = str(q.Equipment)
		}
		if len(filters) > 0 {
			in.FilterExpression = aws.String(joinAnd(filters))
		}
	}
	in.ExpressionAttributeValues = vals
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, err
	}
	ns := make([]notification.Notification, 0, len(out.Items))
	for _, it := range out.Items {
		var n notification.Notification
		if err := attributevalue.UnmarshalMapWithOptions(it, &n, jsonTagsDecode); err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func joinAnd(fs []string) string {
	out := fs[0]
	for _, f := range fs[1:] {
		out += " AND " + f
	}
	return out
}

// OutcomeFromStream decodes an outcome item from a stream record's new image.
func OutcomeFromStream(image map[string]events.DynamoDBAttributeValue) (release.Outcome, error) {
	var o release.Outcome
	err := attributevalue.UnmarshalMapWithOptions(fromStream(image), &o, jsonTagsDecode)
	return o, err
}

func fromStream(m map[string]events.DynamoDBAttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = fromStreamValue(v)
	}
	return out
}

func fromStreamValue(v events.DynamoDBAttributeValue) types.AttributeValue {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}
	case events.DataTypeList:
		l := make([]types.AttributeValue, 0, len(v.List()))
		for _, e := range v.List() {
			l = append(l, fromStreamValue(e))
		}
		return &types.AttributeValueMemberL{Value: l}
	case events.DataTypeMap:
		return &types.AttributeValueMemberM{Value: fromStream(v.Map())}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}
