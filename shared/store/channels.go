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
	"github.com/portcommunity/cpu/shared/webhook"
)

// Channel items: an entity's channels share its partition with a counter, so the five-channel cap
// is one transaction and listing them is one Query. The delivery log is a partition per channel,
// in time order (at most 20 attempts a second go to one channel); gsi1 finds a reference's
// attempts.
func channelPK(entity string) string { return "CHAN#" + entity }
func channelSK(id string) string     { return "CHANNEL#" + id }
func deliveryLogPK(channel string) string {
	return "DLOG#" + channel
}

const channelCountSK = "#COUNT"

// deliveryLogSK orders a channel's attempts by time; the webhook id and attempt make it unique.
func deliveryLogSK(a webhook.Attempt) string {
	return fmt.Sprintf("%s#%s#%02d", a.Time.UTC().Format(storedOnLayout), a.WebhookID, a.Attempt)
}

// ErrChannelLimit: the entity has its five channels.
var ErrChannelLimit = errors.New("the entity has the most notification channels it may have")

// ErrChannelChanged: the channel changed between its read and the write (a concurrent PUT).
var ErrChannelChanged = errors.New("the notification channel was changed meanwhile")

func channelItem(c webhook.Channel) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(c, jsonTags)
	if err != nil {
		return nil, err
	}
	item[attrPK], item[attrSK], item[attrItemType] = str(channelPK(c.EntityID)), str(channelSK(c.ID)), str("Channel")
	return item, checkSize("channel "+c.ID, item)
}

// CreateChannel stores a new channel and counts it, in one transaction: the count may not pass
// webhook.MaxChannels (ErrChannelLimit).
func (s *Store) CreateChannel(ctx context.Context, c webhook.Channel) error {
	item, err := channelItem(c)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table,
			Key:       map[string]types.AttributeValue{attrPK: str(channelPK(c.EntityID)), attrSK: str(channelCountSK)},
			// A missing counter is zero.
			UpdateExpression:          aws.String("ADD #n :one"),
			ConditionExpression:       aws.String("attribute_not_exists(#n) OR #n < :max"),
			ExpressionAttributeNames:  map[string]string{"#n": "channels"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":max": num(webhook.MaxChannels)},
		}},
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && deref(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return ErrChannelLimit
	}
	return permanent(err)
}

// Channels lists an entity's channels (at most five: one small Query).
func (s *Store) Channels(ctx context.Context, entity string) ([]webhook.Channel, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(channelPK(entity)), ":c": str("CHANNEL#")},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	cs := make([]webhook.Channel, 0, len(out.Items))
	for _, it := range out.Items {
		var c webhook.Channel
		if err := attributevalue.UnmarshalMapWithOptions(it, &c, jsonTagsDecode); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// Channel reads one of an entity's channels (webhook.ErrNotFound when it has none by that id).
func (s *Store) Channel(ctx context.Context, entity, id string) (webhook.Channel, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{attrPK: str(channelPK(entity)), attrSK: str(channelSK(id))},
	})
	if err != nil {
		return webhook.Channel{}, err
	}
	if out.Item == nil {
		return webhook.Channel{}, webhook.ErrNotFound
	}
	var c webhook.Channel
	err = attributevalue.UnmarshalMapWithOptions(out.Item, &c, jsonTagsDecode)
	return c, err
}

// deliveryFields are what the deliverers keep on a channel: a replace by its owner leaves them as
// they are now, not as they were read (a streak cleared meanwhile stays cleared).
var deliveryFields = map[string]bool{"failingSince": true, "sealedToken": true, "tokenExpires": true}

// ReplaceChannel writes the owner's fields of a changed channel over the version it was read at
// (ErrChannelChanged when another write of the owner came between, webhook.ErrNotFound when it was
// deleted). clearDelivery also removes what the deliverers keep (the token after a change of the
// receiver's settings, the failure streak when the channel is enabled again).
func (s *Store) ReplaceChannel(ctx context.Context, c webhook.Channel, readVersion int, clearDelivery bool) error {
	item, err := channelItem(c)
	if err != nil {
		return err
	}
	names := map[string]string{"#v": "version"}
	vals := map[string]types.AttributeValue{":read": num(int64(readVersion))}
	var set, remove []string
	i := 0
	for name, v := range item {
		if name == attrPK || name == attrSK || deliveryFields[name] {
			continue
		}
		i++
		k := strconv.Itoa(i)
		names["#a"+k], vals[":a"+k] = name, v
		set = append(set, "#a"+k+" = :a"+k)
	}
	// Owner fields the new channel no longer has (a secret of another authentication type).
	for _, name := range []string{"sealedClientSecret", "sealedPassword", "disabledReason", "disabledSince"} {
		if _, ok := item[name]; !ok {
			remove = append(remove, name)
		}
	}
	if clearDelivery {
		for name := range deliveryFields {
			remove = append(remove, name)
		}
	}
	sort.Strings(set)
	sort.Strings(remove)
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]},
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String("attribute_exists(pk) AND #v = :read"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if ccf.Item == nil {
			return webhook.ErrNotFound
		}
		return ErrChannelChanged
	}
	return permanent(err)
}

// DeleteChannel removes a channel and uncounts it (webhook.ErrNotFound when there is none). Its
// delivery log stays until TTL removes it; queued deliveries find no channel and are dropped.
func (s *Store) DeleteChannel(ctx context.Context, entity, id string) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:           &s.table,
			Key:                 map[string]types.AttributeValue{attrPK: str(channelPK(entity)), attrSK: str(channelSK(id))},
			ConditionExpression: aws.String("attribute_exists(pk)"),
		}},
		{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       map[string]types.AttributeValue{attrPK: str(channelPK(entity)), attrSK: str(channelCountSK)},
			UpdateExpression:          aws.String("ADD #n :minus"),
			ExpressionAttributeNames:  map[string]string{"#n": "channels"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1)},
		}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && deref(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return webhook.ErrNotFound
	}
	return permanent(err)
}

// MarkFailing records the first failure since the last delivery (only if none is recorded: a
// failing channel is written once, not on every attempt).
func (s *Store) MarkFailing(ctx context.Context, entity, id string, at time.Time) error {
	return s.updateChannel(ctx, entity, id, "SET failingSince = :t", "attribute_exists(pk) AND attribute_not_exists(failingSince)",
		map[string]types.AttributeValue{":t": str(at.UTC().Format(time.RFC3339Nano))})
}

// SaveToken keeps the bearer token a deliverer fetched, sealed, for the channel's other deliverers:
// only on the version it was fetched for (a token fetched before the owner changed the channel is
// not kept after).
func (s *Store) SaveToken(ctx context.Context, entity, id string, version int, sealed []byte, expires time.Time) error {
	err := s.updateChannel(ctx, entity, id, "SET sealedToken = :t, tokenExpires = :e", "version = :v",
		map[string]types.AttributeValue{":t": &types.AttributeValueMemberB{Value: sealed}, ":e": str(expires.UTC().Format(time.RFC3339Nano)), ":v": num(int64(version))})
	if errors.Is(err, errUnchanged) {
		return nil // changed or deleted meanwhile
	}
	return err
}

// ClearFailing forgets the failure streak after a delivery (only if one is recorded).
func (s *Store) ClearFailing(ctx context.Context, entity, id string) error {
	return s.updateChannel(ctx, entity, id, "REMOVE failingSince", "attribute_exists(failingSince)", nil)
}

// DisableChannel disables an active channel and stores the notice that tells its entity, in one
// transaction; it reports whether this call did it (so that one notice is stored, however many
// deliveries see the failure, and never none).
func (s *Store) DisableChannel(ctx context.Context, entity, id, reason string, at time.Time, notice notification.Notification) (bool, error) {
	item, err := NotificationItem(notice)
	if err != nil {
		return false, err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                &s.table,
			Key:                      map[string]types.AttributeValue{attrPK: str(channelPK(entity)), attrSK: str(channelSK(id))},
			UpdateExpression:         aws.String("SET #s = :d, enabled = :f, disabledReason = :r, disabledSince = :t, version = version + :one REMOVE failingSince"),
			ConditionExpression:      aws.String("#s = :a"),
			ExpressionAttributeNames: map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":d": str(webhook.StatusDisabled), ":a": str(webhook.StatusActive), ":f": &types.AttributeValueMemberBOOL{Value: false},
				":r": str(reason), ":t": str(at.UTC().Format(time.RFC3339Nano)), ":one": num(1),
			},
		}},
		{Put: &types.Put{TableName: &s.table, Item: item}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && deref(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return false, nil // already disabled (or deleted): its notice, if any, was stored then
	}
	return err == nil, permanent(err)
}

var errUnchanged = errors.New("condition not met")

func (s *Store) updateChannel(ctx context.Context, entity, id, update, cond string, vals map[string]types.AttributeValue, names ...string) error {
	in := &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 map[string]types.AttributeValue{attrPK: str(channelPK(entity)), attrSK: str(channelSK(id))},
		UpdateExpression:    aws.String(update),
		ConditionExpression: aws.String(cond),
	}
	if len(vals) > 0 {
		in.ExpressionAttributeValues = vals
	}
	if len(names) == 2 {
		in.ExpressionAttributeNames = map[string]string{names[0]: names[1]}
	}
	_, err := s.db.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return errUnchanged
	}
	return err
}

// AppendAttempts writes attempts to their channels' delivery logs (kept 30 days).
func (s *Store) AppendAttempts(ctx context.Context, as []webhook.Attempt) error {
	reqs := make([]types.WriteRequest, 0, len(as))
	for _, a := range as {
		item, err := attributevalue.MarshalMapWithOptions(a, jsonTags)
		if err != nil {
			return err
		}
		sk := deliveryLogSK(a)
		item[attrPK], item[attrSK], item[attrItemType] = str(deliveryLogPK(a.ChannelID)), str(sk), str("DeliveryAttempt")
		item["time"] = str(a.Time.UTC().Format(time.RFC3339Nano))
		if a.PublicReferenceID != "" {
			item[attrGSI1PK], item[attrGSI1SK] = str("DLOGREF#"+a.ChannelID+"#"+a.PublicReferenceID), str(sk)
		}
		item["expiresAt"] = num(a.Time.Add(webhook.LogRetention).Unix())
		if err := checkSize("delivery attempt", item); err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	return s.batchWrite(ctx, reqs)
}

// Attempts reads one page of a channel's delivery log.
func (s *Store) Attempts(ctx context.Context, q webhook.LogQuery) (webhook.LogPage, error) {
	lo, hi := timeKey(q.From), timeKey(q.To.Add(-time.Nanosecond))+"#\uffff"
	if q.Before != "" && q.Before < hi {
		hi = q.Before
	}
	page := webhook.LogPage{Items: []webhook.Attempt{}}
	if hi < lo {
		return page, nil
	}
	in := &dynamodb.QueryInput{
		TableName: &s.table, ScanIndexForward: aws.Bool(false),
		KeyConditionExpression:    aws.String("#pk = :p AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(deliveryLogPK(q.ChannelID)), ":lo": str(lo), ":hi": str(hi)},
		Limit:                     aws.Int32(int32(min(q.MaxRead, 500))),
	}
	if q.Ref != "" {
		in.IndexName = aws.String(gsi1)
		in.ExpressionAttributeNames = map[string]string{"#pk": attrGSI1PK, "#sk": attrGSI1SK}
		in.ExpressionAttributeValues[":p"] = str("DLOGREF#" + q.ChannelID + "#" + q.Ref)
	}
	read := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return webhook.LogPage{}, err
		}
		for _, it := range out.Items {
			read++
			sk := sVal(it[attrSK])
			if sk == q.Before {
				continue
			}
			var a webhook.Attempt
			if err := attributevalue.UnmarshalMapWithOptions(it, &a, jsonTagsDecode); err != nil {
				return webhook.LogPage{}, err
			}
			a.ChannelID = q.ChannelID
			page.Next = sk
			if q.Outcome == "" || string(a.Outcome) == q.Outcome {
				page.Items = append(page.Items, a)
				if len(page.Items) == q.Limit {
					return page, nil
				}
			}
			if read >= q.MaxRead {
				return page, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			page.Next = ""
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// StoredNotifications reads a receiver's notifications by key (BatchGetItem, a hundred a call,
// strongly consistent: a job may come moments after its notification was written, and an
// eventually consistent miss would be taken for a notification aged out). Those TTL or the 168
// hours have taken are not in the answer.
func (s *Store) StoredNotifications(ctx context.Context, receiver string, keys []string, now time.Time) (map[string]notification.Notification, error) {
	out := make(map[string]notification.Notification, len(keys))
	for start := 0; start < len(keys); start += 100 {
		batch := make([]map[string]types.AttributeValue, 0, 100)
		for _, k := range keys[start:min(start+100, len(keys))] {
			batch = append(batch, key(notifPK(receiver), k))
		}
		err := s.batchGet(ctx, batch, true, func(it map[string]types.AttributeValue) error {
			var n notification.Notification
			if err := attributevalue.UnmarshalMapWithOptions(it, &n, jsonTagsDecode); err != nil {
				return err
			}
			if now.Sub(n.StoredOn) < notification.Retention {
				out[sVal(it[attrSK])] = n
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// NotificationRefsBetween reads one chunk of a receiver's notifications stored in [from, to), oldest
// first, after the key `after` (a key condition on the receiver's partition; only the few
// attributes replay needs are read). next is "" after the last.
func (s *Store) NotificationRefsBetween(ctx context.Context, receiver string, from, to time.Time, after string, limit int) ([]webhook.StoredRef, string, error) {
	lo := timeKey(from)
	if after != "" && after > lo {
		lo = after + "\x00"
	}
	hi := timeKey(to)
	if hi <= lo {
		return nil, "", nil
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(notifPK(receiver)), ":lo": str(lo), ":hi": str(hi)},
		ProjectionExpression:      aws.String("sk, publicReferenceId, #t, event"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, "", err
	}
	refs := make([]webhook.StoredRef, 0, len(out.Items))
	for _, it := range out.Items {
		key := sVal(it[attrSK])
		if key >= hi { // BETWEEN includes hi; [from, to) does not
			continue
		}
		refs = append(refs, webhook.StoredRef{Receiver: receiver, Key: key, PublicReferenceID: sVal(it["publicReferenceId"]), Type: sVal(it["type"]), Event: sVal(it["event"])})
	}
	next := ""
	if len(out.LastEvaluatedKey) > 0 && len(refs) > 0 {
		next = refs[len(refs)-1].Key
	}
	return refs, next, nil
}

// NotificationRefsUnder reads a receiver's notifications under one public reference (the
// reference index, bounded by the receiver).
func (s *Store) NotificationRefsUnder(ctx context.Context, receiver, ref string) ([]webhook.StoredRef, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(idxByReference),
		KeyConditionExpression:    aws.String("nrpk = :p AND begins_with(nrsk, :r)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("NR#" + ref), ":r": str(receiver + "#")},
	}
	var refs []webhook.StoredRef
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			// The index copies the event but not the type: the deliverer applies the channel's
			// filter to what it reads anyway.
			refs = append(refs, webhook.StoredRef{Receiver: receiver, Key: sVal(it[attrSK]), PublicReferenceID: ref, Event: sVal(it["event"])})
		}
		if len(out.LastEvaluatedKey) == 0 {
			return refs, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// NotificationRefFromStream reads what the dispatcher needs of a notification in a stream record.
func NotificationRefFromStream(image map[string]events.DynamoDBAttributeValue) (webhook.StoredRef, error) {
	item := fromStream(image)
	var n notification.Notification
	if err := attributevalue.UnmarshalMapWithOptions(item, &n, jsonTagsDecode); err != nil {
		return webhook.StoredRef{}, err
	}
	key := sVal(item[attrSK])
	if n.NxtEntityID == "" || key == "" {
		return webhook.StoredRef{}, errors.New("not a notification item")
	}
	return webhook.StoredRef{Receiver: n.NxtEntityID, Key: key, PublicReferenceID: n.PublicReferenceID, Type: n.Type, Event: n.Event, StoredOn: n.StoredOn}, nil
}
