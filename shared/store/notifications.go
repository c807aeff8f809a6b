package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/notification"
	"github.com/portcommunity/cpu/shared/release"
)

// Index names and key attributes of the notification indexes (catalog.SingleTable).
const (
	idxByReference = "notifByReference"
	idxByRelease   = "notifByRelease"
	idxByContainer = "notifByContainer"
	idxByEvent     = "notifByEvent"
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
// so writing them again (a retried stream record) overwrites with the same item: no copies. Each
// carries the keys of the notification indexes that apply to it: by reference and by event
// always; by container and by release only when it has one (sparse, so no key gathers the
// notifications without a value).
func (s *Store) PutNotifications(ctx context.Context, ns []notification.Notification) error {
	var reqs []types.WriteRequest
	for _, n := range ns {
		item, err := NotificationItem(n)
		if err != nil {
			return err
		}
		if err := checkSize("notification "+sVal(item[attrSK]), item); err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	return s.batchWrite(ctx, reqs)
}

// NotificationItem is a notification as stored, with the keys of the indexes that apply to it.
func NotificationItem(n notification.Notification) (map[string]types.AttributeValue, error) {
	{
		item, err := attributevalue.MarshalMapWithOptions(n, jsonTags)
		if err != nil {
			return nil, err
		}
		sk := NotificationSK(n.StoredOn, n.PublicReferenceID, n.Seq)
		item[attrPK], item[attrSK], item[attrItemType] = str(notifPK(n.NxtEntityID)), str(sk), str("Notification")
		item["storedOn"] = str(n.StoredOn.UTC().Format(time.RFC3339Nano))
		item["nrpk"], item["nrsk"] = str("NR#"+n.PublicReferenceID), str(n.NxtEntityID+"#"+sk)
		item["nepk"], item["nesk"] = str("NE#"+n.NxtEntityID+"#"+n.Event), str(sk)
		if n.EquipmentNumber != "" {
			item["ncpk"], item["ncsk"] = str("NC#"+n.NxtEntityID+"#"+n.EquipmentNumber), str(sk)
		}
		if n.ReleaseID != "" {
			item["nlpk"], item["nlsk"] = str("NL#"+n.ReleaseID), str(n.NxtEntityID+"#"+sk)
		}
		item["expiresAt"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(n.StoredOn.Add(notification.Retention).Unix(), 10)}
		return item, nil
	}
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
				return permanent(err)
			}
			batch = out.UnprocessedItems
		}
	}
	return nil
}

// notificationPath is how one E7 query reads: a key condition on an index (or the table) and the
// filters the key does not cover.
type notificationPath struct {
	index   string // "" for the table itself
	pkName  string
	pkValue string
	skName  string
	prefix  string // before the time part of the sort key (the receiver, on the shared indexes)
	filters map[string]string
}

func pathOf(q notification.Query) notificationPath {
	p := notificationPath{filters: map[string]string{}}
	filter := func(name, value string) {
		if value != "" {
			p.filters[name] = value
		}
	}
	switch {
	case q.PublicRef != "":
		p.index, p.pkName, p.pkValue, p.skName, p.prefix = idxByReference, "nrpk", "NR#"+q.PublicRef, "nrsk", q.Receiver+"#"
		filter("releaseId", q.ReleaseID)
		filter("equipmentNumber", q.Equipment)
		filter("event", q.Event)
	case q.ReleaseID != "":
		p.index, p.pkName, p.pkValue, p.skName, p.prefix = idxByRelease, "nlpk", "NL#"+q.ReleaseID, "nlsk", q.Receiver+"#"
		filter("equipmentNumber", q.Equipment)
		filter("event", q.Event)
	case q.Equipment != "":
		p.index, p.pkName, p.pkValue, p.skName = idxByContainer, "ncpk", "NC#"+q.Receiver+"#"+q.Equipment, "ncsk"
		filter("event", q.Event)
	case q.Event != "":
		p.index, p.pkName, p.pkValue, p.skName = idxByEvent, "nepk", "NE#"+q.Receiver+"#"+q.Event, "nesk"
	default:
		p.pkName, p.pkValue, p.skName = attrPK, notifPK(q.Receiver), attrSK
	}
	return p
}

// QueryNotifications reads one page of a receiver's notifications, newest first: a Query on the
// path's key and the time range (from q.Before when it continues a listing), reading on through
// the range until the page is full, so a filter never hides a match behind a Limit. Through an
// index it reads keys, then the page's notifications from the table (BatchGetItem).
func (s *Store) QueryNotifications(ctx context.Context, q notification.Query) (notification.Page, error) {
	p := pathOf(q)
	lo, hi := timeKey(q.From), timeKey(q.To.Add(-time.Nanosecond))+"#\uffff"
	if q.Before != "" && q.Before < hi {
		hi = q.Before // inclusive: the item at the cursor is skipped below
	}
	if hi < lo {
		// Nothing is in a reversed range, and DynamoDB refuses a BETWEEN with reversed bounds
		// (a ValidationException, a 500). A page token older than the range makes one: the 168
		// hours move on while a client pages through the oldest notifications.
		return notification.Page{Items: []notification.Notification{}}, nil
	}
	vals := map[string]types.AttributeValue{":p": str(p.pkValue), ":lo": str(p.prefix + lo), ":hi": str(p.prefix + hi)}
	names := map[string]string{"#pk": p.pkName, "#sk": p.skName}
	in := &dynamodb.QueryInput{
		TableName: &s.table, ScanIndexForward: aws.Bool(false),
		KeyConditionExpression: aws.String("#pk = :p AND #sk BETWEEN :lo AND :hi"),
	}
	if p.index != "" {
		in.IndexName = aws.String(p.index)
	}
	var conds []string
	for name, v := range p.filters {
		k := "f" + strconv.Itoa(len(conds))
		names["#"+k], vals[":"+k] = name, str(v)
		conds = append(conds, "#"+k+" = :"+k)
	}
	sort.Strings(conds)
	if len(conds) > 0 {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = names, vals

	// Read candidates a hundred at a time (index entries, fetched from the table a hundred at a time,
	// or the table's own items) and take them in order until the page is full: by count, or by the
	// size the answer will have. A full page stops reading: at most one chunk is read beyond it.
	in.Limit = aws.Int32(readChunk)
	page := notification.Page{Items: []notification.Notification{}}
	size, full := 0, false
	take := func(items []map[string]types.AttributeValue) error {
		for _, it := range items {
			var n notification.Notification
			if err := attributevalue.UnmarshalMapWithOptions(it, &n, jsonTagsDecode); err != nil {
				return err
			}
			cost := notification.AnswerBytes(n)
			if len(page.Items) == q.Limit || (size+cost > q.MaxBytes && len(page.Items) > 0) {
				full = true
				return nil
			}
			page.Items, size, page.Next = append(page.Items, n), size+cost, sVal(it[attrSK])
		}
		return nil
	}
	for !full {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return notification.Page{}, err
		}
		var found []map[string]types.AttributeValue
		for _, it := range out.Items {
			if sVal(it[attrSK]) != q.Before {
				found = append(found, it)
			}
		}
		if p.index != "" {
			if found, err = s.fetch(ctx, found); err != nil {
				return notification.Page{}, err
			}
		}
		if err := take(found); err != nil {
			return notification.Page{}, err
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if !full {
		page.Next = ""
	}
	return page, nil
}

// readChunk is how many candidates one E7 read takes from DynamoDB at a time: a page that fills up
// reads at most this many more than it answers.
const readChunk = 100

// fetch reads the full notifications of index entries, in their order (BatchGetItem, 100 keys a
// call).
func (s *Store) fetch(ctx context.Context, entries []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	byKey := make(map[string]map[string]types.AttributeValue, len(entries))
	for start := 0; start < len(entries); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, e := range entries[start:min(start+100, len(entries))] {
			keys = append(keys, key(sVal(e[attrPK]), sVal(e[attrSK])))
		}
		err := s.batchGet(ctx, keys, false, func(it map[string]types.AttributeValue) error {
			byKey[sVal(it[attrPK])+"\x00"+sVal(it[attrSK])] = it
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]map[string]types.AttributeValue, 0, len(entries))
	for _, e := range entries {
		if it, ok := byKey[sVal(e[attrPK])+"\x00"+sVal(e[attrSK])]; ok { // TTL may remove one between the two reads
			out = append(out, it)
		}
	}
	return out, nil
}

// SentUnder tells whether notifications under a public reference (or of a release, when ref is
// empty) stored in [from, to) exist for the receiver, and for anyone. The receiver's are one key
// condition; anyone's are read through the reference's index entries (a reference reaches a few
// hundred receivers at most) until a live one turns up.
func (s *Store) SentUnder(ctx context.Context, receiver, ref, releaseID string, from, to time.Time) (notification.Sent, error) {
	q := notification.Query{Receiver: receiver, From: from, To: to, PublicRef: ref, ReleaseID: releaseID, Limit: 1, MaxBytes: notification.MaxPageBytes}
	p := pathOf(q)
	lo, hi := timeKey(from), timeKey(to.Add(-time.Nanosecond))+"#\uffff"
	if hi < lo {
		// An empty time range (E7 asks about a day outside the 168 hours): nothing was sent in
		// it, and DynamoDB refuses a BETWEEN with reversed bounds.
		return notification.Sent{}, nil
	}
	names := map[string]string{"#pk": p.pkName, "#sk": p.skName}
	mine, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(p.index), Limit: aws.Int32(1),
		KeyConditionExpression:    aws.String("#pk = :p AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(p.pkValue), ":lo": str(p.prefix + lo), ":hi": str(p.prefix + hi)},
	})
	if err != nil {
		return notification.Sent{}, err
	}
	if len(mine.Items) > 0 {
		return notification.Sent{ToCaller: true, ToAnyone: true}, nil
	}
	found := false
	err = s.query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(p.index), ProjectionExpression: aws.String("#sk"),
		KeyConditionExpression:    aws.String("#pk = :p"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(p.pkValue)},
	}, func(it map[string]types.AttributeValue) error {
		// The sort key is <receiver>#<storedOn>#…: its time says whether it is still live.
		if _, rest, ok := strings.Cut(sVal(it[p.skName]), "#"); ok && rest >= lo && rest <= hi {
			found = true
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return notification.Sent{}, err
	}
	return notification.Sent{ToAnyone: found}, nil
}

// NotificationsUnder returns every notification stored under a public reference, to every
// receiver (support tooling and tests: what did this request cause?).
func (s *Store) NotificationsUnder(ctx context.Context, ref string) ([]notification.Notification, error) {
	var entries []map[string]types.AttributeValue
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(idxByReference),
		KeyConditionExpression:    aws.String("nrpk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("NR#" + ref)},
	}, func(it map[string]types.AttributeValue) error {
		entries = append(entries, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	items, err := s.fetch(ctx, entries)
	if err != nil {
		return nil, err
	}
	out := make([]notification.Notification, len(items))
	for i, it := range items {
		if err := attributevalue.UnmarshalMapWithOptions(it, &out[i], jsonTagsDecode); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// errStop ends a query early.
var errStop = errors.New("stop")

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
