package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/registry"
)

// ErrDuplicate is returned when a registration collides with an existing entity.
type ErrDuplicate struct{ Field, Value string }

func (e *ErrDuplicate) Error() string {
	return fmt.Sprintf("an entity with %s %q is already registered; nothing was written", e.Field, e.Value)
}

// ErrNotFound is returned when an item does not exist.
var ErrNotFound = errors.New("not found")

var jsonTags = func(o *attributevalue.EncoderOptions) { o.TagKey = "json" }
var jsonTagsDecode = func(o *attributevalue.DecoderOptions) { o.TagKey = "json" }

// Register writes an entity, its uniqueness guards, its registry index items and, when given, its
// first credentials, in one transaction: a duplicate (same nxtEntityId, VAT or name) writes nothing.
func (s *Store) Register(ctx context.Context, e entity.Entity, creds *identity.Issued) error {
	items, fields, err := s.registerItems(e, creds)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil {
		if dup := duplicateOf(err, fields); dup != nil {
			return dup
		}
		return fmt.Errorf("register %s: %w", e.NxtEntityID, err)
	}
	return nil
}

// registerItems are the writes of an entity's registration, and what a failed condition of each
// means (ErrDuplicate naming the field).
func (s *Store) registerItems(e entity.Entity, creds *identity.Issued) ([]types.TransactWriteItem, []ErrDuplicate, error) {
	profile, err := attributevalue.MarshalMapWithOptions(e, jsonTags)
	if err != nil {
		return nil, nil, err
	}
	folded := entity.FoldName(e.Name)
	profile[attrPK] = str(entityPK(e.NxtEntityID))
	profile[attrSK] = str(skProfile)
	profile[attrGSI1PK] = str(gsiEntities)
	profile[attrGSI1SK] = str(entityListSK(folded, e.NxtEntityID))
	profile[attrItemType] = str("Entity")

	guard := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(skUnique), "entityId": str(e.NxtEntityID), attrItemType: str("Unique")}
	}
	// Cancellation reasons come back in the order of the items: fields names each guarded item.
	items := []types.TransactWriteItem{
		s.putNew(profile),
		s.putNew(guard(uniqueVATPK(e.VAT))),
		s.putNew(guard(uniqueNamePK(folded))),
	}
	fields := []ErrDuplicate{{"nxtEntityId", e.NxtEntityID}, {"vat", e.VAT}, {"name", e.Name}}
	for _, code := range e.TerminalCodes {
		term := guard(terminalPK(code))
		term[attrSK] = str("TERM")
		items = append(items, s.putNew(term))
		fields = append(fields, ErrDuplicate{"terminalCodes", code})
	}
	summary, err := attributevalue.MarshalMap(registry.SummaryOf(e))
	if err != nil {
		return nil, nil, err
	}
	index := func(pk, sk string) types.TransactWriteItem {
		item := map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk), attrItemType: str("RegistryIndex")}
		for k, v := range summary {
			item[k] = v
		}
		return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item}}
	}
	for _, id := range []struct {
		kind registry.Identifier
		v    string
	}{{registry.ByVAT, e.VAT}, {registry.ByEORI, e.EORI}, {registry.ByDUNS, e.DUNS}, {registry.ByAPCS, e.APCSCode}, {registry.BySCAC, e.SCAC}} {
		if id.v != "" {
			items = append(items, index(registryPK(string(id.kind), id.v), entityPK(e.NxtEntityID)))
		}
	}
	for _, g := range entity.NameGrams(e.Name) {
		items = append(items, index(gramPK(g), gramSK(g, e.NxtEntityID)))
	}
	if creds != nil {
		credItems, err := s.credentialItems(*creds)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, credItems...)
	}
	return items, fields, nil
}

func duplicateOf(err error, fields []ErrDuplicate) error {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	for i, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) != "ConditionalCheckFailed" {
			continue
		}
		if i < len(fields) {
			return &fields[i]
		}
		return &ErrDuplicate{Field: "credential", Value: "(generated id collision; retry)"}
	}
	return nil
}

func (s *Store) putNew(item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           &s.table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
}

// Entity reads one entity.
func (s *Store) Entity(ctx context.Context, id string) (entity.Entity, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(entityPK(id), skProfile)})
	if err != nil {
		return entity.Entity{}, err
	}
	if out.Item == nil {
		return entity.Entity{}, ErrNotFound
	}
	var e entity.Entity
	err = attributevalue.UnmarshalMapWithOptions(out.Item, &e, jsonTagsDecode)
	return e, err
}

// Entities lists every entity by name (a Query on gsi1, for support tooling).
func (s *Store) Entities(ctx context.Context) ([]entity.Entity, error) {
	var out []entity.Entity
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsi1),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(gsiEntities)},
	}, func(item map[string]types.AttributeValue) error {
		var e entity.Entity
		if err := attributevalue.UnmarshalMapWithOptions(item, &e, jsonTagsDecode); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// ByIdentifier implements registry.Index.
func (s *Store) ByIdentifier(ctx context.Context, id registry.Identifier, value string) ([]registry.Summary, error) {
	if id == registry.ByNxtEntityID {
		e, err := s.Entity(ctx, value)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []registry.Summary{registry.SummaryOf(e)}, nil
	}
	return s.summaries(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(registryPK(string(id), value))},
	})
}

// ByNameGram implements registry.Index.
func (s *Store) ByNameGram(ctx context.Context, gram string) ([]registry.Summary, error) {
	if gram == "" {
		return nil, nil
	}
	return s.summaries(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :g)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(gramPK(gram)), ":g": str(gram),
		},
	})
}

func (s *Store) summaries(ctx context.Context, in *dynamodb.QueryInput) ([]registry.Summary, error) {
	var out []registry.Summary
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		var sum registry.Summary
		if err := attributevalue.UnmarshalMap(item, &sum); err != nil {
			return err
		}
		out = append(out, sum)
		return nil
	})
	return out, err
}

// Profiles implements registry.Index: one BatchGetItem (at most 100 keys, a page's worth).
func (s *Store) Profiles(ctx context.Context, ids []string) ([]entity.Entity, error) {
	if len(ids) == 0 {
		return []entity.Entity{}, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, key(entityPK(id), skProfile))
	}
	byID := map[string]entity.Entity{}
	err := s.batchGet(ctx, keys, false, func(item map[string]types.AttributeValue) error {
		var e entity.Entity
		if err := attributevalue.UnmarshalMapWithOptions(item, &e, jsonTagsDecode); err != nil {
			return err
		}
		byID[e.NxtEntityID] = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := make([]entity.Entity, 0, len(ids))
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			res = append(res, e)
		}
	}
	return res, nil
}

// batchGet reads keys (at most 100) with BatchGetItem, again for what DynamoDB left unprocessed.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool, each func(map[string]types.AttributeValue) error) error {
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(consistent)}}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return err
		}
		for _, item := range out.Responses[s.table] {
			if err := each(item); err != nil {
				return err
			}
		}
		req = out.UnprocessedKeys
	}
	return nil
}

func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, each func(map[string]types.AttributeValue) error) error {
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			if err := each(item); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(1<<min(attempt, 6)) * 10 * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}
