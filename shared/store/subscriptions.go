package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/marketplace"
	"github.com/portcommunity/cpu/shared/people"
)

// Items of the marketplace:
//
//	subscription            ENT#<entityId>          SUB#<api>      gsi1: SUBS#<status> / <createdAt>#<entityId>#<api>
//	platform role holder    PLATFORM#<role>         <userId>       (who to e-mail: asset managers)
func subscriptionSK(api string) string { return "SUB#" + api }

func (s *Store) subscriptionItem(sub marketplace.Subscription) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(sub, jsonTags)
	if err != nil {
		return nil, err
	}
	item[attrPK], item[attrSK], item[attrItemType] = str(entityPK(sub.EntityID)), str(subscriptionSK(sub.API)), str("Subscription")
	item[attrGSI1PK] = str("SUBS#" + sub.Status)
	item[attrGSI1SK] = str(sub.CreatedAt.UTC().Format(time.RFC3339Nano) + "#" + sub.EntityID + "#" + sub.API)
	item["version"] = num(int64(sub.Version))
	if sub.Keys != nil {
		keys, err := attributevalue.MarshalMapWithOptions(sub.Keys, jsonTags)
		if err != nil {
			return nil, err
		}
		item["keys"] = &types.AttributeValueMemberM{Value: keys}
	}
	return item, nil
}

func subscriptionOf(item map[string]types.AttributeValue) (marketplace.Subscription, error) {
	var sub marketplace.Subscription
	if err := attributevalue.UnmarshalMapWithOptions(item, &sub, jsonTagsDecode); err != nil {
		return sub, err
	}
	sub.Version, _ = strconv.Atoi(nVal(item["version"]))
	if m, ok := item["keys"].(*types.AttributeValueMemberM); ok {
		var k marketplace.SealedKeys
		if err := attributevalue.UnmarshalMapWithOptions(m.Value, &k, jsonTagsDecode); err != nil {
			return sub, err
		}
		sub.Keys = &k
	}
	return sub, nil
}

// Subscription reads an entity's subscription to an API (people.ErrNotFound when none).
func (s *Store) Subscription(ctx context.Context, entityID, api string) (marketplace.Subscription, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(entityPK(entityID), subscriptionSK(api)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return marketplace.Subscription{}, err
	}
	if out.Item == nil {
		return marketplace.Subscription{}, people.ErrNotFound
	}
	return subscriptionOf(out.Item)
}

// SubscriptionsOf lists an entity's subscriptions (one Query).
func (s *Store) SubscriptionsOf(ctx context.Context, entityID string) ([]marketplace.Subscription, error) {
	var out []marketplace.Subscription
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(entityPK(entityID)), ":s": str("SUB#")},
		ConsistentRead:            aws.Bool(true),
	}, func(it map[string]types.AttributeValue) error {
		sub, err := subscriptionOf(it)
		out = append(out, sub)
		return err
	})
	return out, err
}

// SubscriptionsIn lists the subscriptions in a status, oldest first (the asset manager's queue).
func (s *Store) SubscriptionsIn(ctx context.Context, status string, limit int) ([]marketplace.Subscription, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(gsi1),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("SUBS#" + status)},
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, err
	}
	subs := make([]marketplace.Subscription, 0, len(out.Items))
	for _, it := range out.Items {
		sub, err := subscriptionOf(it)
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, nil
}

// SaveSubscription writes a subscription's new state, conditioned on the version it was read at
// (0: none, or one that is no longer open), with the keys it adds and the key hashes it revokes,
// in one transaction: a key is usable exactly while its subscription says so.
func (s *Store) SaveSubscription(ctx context.Context, sub marketplace.Subscription, read int, add []identity.SubscriptionKey, revoke []string) error {
	sub.Version = read + 1
	item, err := s.subscriptionItem(sub)
	if err != nil {
		return err
	}
	put := &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(int64(read))}}
	if read == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(pk) OR #s IN (:c, :r)")
		put.ExpressionAttributeNames = map[string]string{"#s": "status"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":c": str(marketplace.Cancelled), ":r": str(marketplace.Rejected)}
	}
	items := []types.TransactWriteItem{{Put: put}}
	for _, k := range add {
		ki, err := s.credentialItems(identity.Issued{Key: k})
		if err != nil {
			return err
		}
		items = append(items, ki...)
	}
	for _, h := range revoke {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(keyPK(h), skKey)}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return people.ErrStale
	}
	return err
}

// PlatformPeople lists the ids of the people holding a platform role (asset managers, community
// administrators): one Query.
func (s *Store) PlatformPeople(ctx context.Context, role string) ([]string, error) {
	var ids []string
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("PLATFORM#" + role)},
	}, func(it map[string]types.AttributeValue) error {
		ids = append(ids, sVal(it[attrSK]))
		return nil
	})
	return ids, err
}
