package store

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/identity"
)

// credentialItems are the items of newly issued credentials, each written only if new.
func (s *Store) credentialItems(c identity.Issued) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	add := func(v any, pk, sk, gsk, kind string) error {
		item, err := attributevalue.MarshalMap(v)
		if err != nil {
			return err
		}
		item[attrPK], item[attrSK] = str(pk), str(sk)
		item[attrGSI1PK], item[attrGSI1SK] = str(entityPK(entityOf(v))), str(gsk)
		item[attrItemType] = str(kind)
		items = append(items, s.putNew(item))
		return nil
	}
	if c.Client.ClientID != "" {
		if err := add(c.Client, clientPK(c.Client.ClientID), skClient, "CLIENT#"+c.Client.ClientID, "Client"); err != nil {
			return nil, err
		}
	}
	if c.Key.Hash != "" {
		gsk := "KEY#" + c.Key.Environment + "#" + c.Key.API + "#" + c.Key.Prefix
		if err := add(c.Key, keyPK(c.Key.Hash), skKey, gsk, "SubscriptionKey"); err != nil {
			return nil, err
		}
	}
	if c.Ingestion.ID != "" {
		if err := add(c.Ingestion, ingestPK(c.Ingestion.ID), skIngest, "INGEST#"+c.Ingestion.Environment, "IngestionId"); err != nil {
			return nil, err
		}
	}
	return items, nil
}

func entityOf(v any) string {
	switch x := v.(type) {
	case identity.Client:
		return x.EntityID
	case identity.SubscriptionKey:
		return x.EntityID
	case identity.IngestionID:
		return x.EntityID
	}
	return ""
}

// Issue stores credentials for an existing entity (all or nothing).
func (s *Store) Issue(ctx context.Context, c identity.Issued) error {
	items, err := s.credentialItems(c)
	if err != nil || len(items) == 0 {
		return err
	}
	// The entity must exist: a condition on its profile joins the transaction.
	entityID := firstNonEmpty(c.Client.EntityID, c.Key.EntityID, c.Ingestion.EntityID)
	items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:           &s.table,
		Key:                 key(entityPK(entityID), skProfile),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}})
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// Client reads a client by id; identity.ErrUnknown when unknown.
func (s *Store) Client(ctx context.Context, clientID string) (identity.Client, error) {
	var c identity.Client
	return c, s.get(ctx, clientPK(clientID), skClient, &c)
}

// SubscriptionKey reads a key by its hash; identity.ErrUnknown when unknown.
func (s *Store) SubscriptionKey(ctx context.Context, hash string) (identity.SubscriptionKey, error) {
	var k identity.SubscriptionKey
	return k, s.get(ctx, keyPK(hash), skKey, &k)
}

// IngestionID reads an ingestion id; identity.ErrUnknown when unknown.
func (s *Store) IngestionID(ctx context.Context, id string) (identity.IngestionID, error) {
	var in identity.IngestionID
	return in, s.get(ctx, ingestPK(id), skIngest, &in)
}

// Credentials lists an entity's clients, keys (prefix only) and ingestion ids (a Query on gsi1).
func (s *Store) Credentials(ctx context.Context, entityID string) ([]identity.Client, []identity.SubscriptionKey, []identity.IngestionID, error) {
	var cs []identity.Client
	var ks []identity.SubscriptionKey
	var is []identity.IngestionID
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsi1),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(entityPK(entityID))},
	}, func(item map[string]types.AttributeValue) error {
		sk := item[attrGSI1SK].(*types.AttributeValueMemberS).Value
		switch {
		case strings.HasPrefix(sk, "CLIENT#"):
			var c identity.Client
			cs = append(cs, c)
			return attributevalue.UnmarshalMap(item, &cs[len(cs)-1])
		case strings.HasPrefix(sk, "KEY#"):
			var k identity.SubscriptionKey
			ks = append(ks, k)
			return attributevalue.UnmarshalMap(item, &ks[len(ks)-1])
		case strings.HasPrefix(sk, "INGEST#"):
			var in identity.IngestionID
			is = append(is, in)
			return attributevalue.UnmarshalMap(item, &is[len(is)-1])
		}
		return nil
	})
	return cs, ks, is, err
}

func (s *Store) get(ctx context.Context, pk, sk string, v any) error {
	if len(pk) > MaxPartitionKeyBytes || len(sk) > MaxSortKeyBytes {
		// Nothing is stored under a key DynamoDB refuses, and the ids these keys hold come from
		// callers: a client id of kilobytes posted to the public token endpoint is unknown, not a
		// 500.
		return identity.ErrUnknown
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk)})
	if err != nil {
		return err
	}
	if out.Item == nil {
		return identity.ErrUnknown
	}
	return attributevalue.UnmarshalMap(out.Item, v)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
