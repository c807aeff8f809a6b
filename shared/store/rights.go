package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/release"
)

// Membership lists a release right for a party (E2). It is kept small (port, container and release
// id live in its sort key), so that one Query reads thousands.
type Membership struct {
	Port            string `dynamodbav:"-"`
	Container       string `dynamodbav:"-"`
	ReleaseID       string `dynamodbav:"-"`
	BillOfLadingKey string `dynamodbav:"bk"`
	Status          int    `dynamodbav:"st"`
	ActionStatus    int    `dynamodbav:"as"`
	Light           string `dynamodbav:"lt"`
	ShippingID      string `dynamodbav:"sa"`
	TerminalID      string `dynamodbav:"to"`
	HolderID        string `dynamodbav:"h"`
	BLs             string `dynamodbav:"bl"` // upper-cased, joined by spaces, for the B/L filter
}

func rightsPK(entity string) string { return "RIGHTS#" + entity }
func rightsSK(r *release.Release) string {
	return r.PortLoCode + "#" + r.EquipmentNumber + "#" + r.ReleaseID
}

// membershipItems keeps the parties' lists in step with a release change: an item for every
// member of the new state, a delete for every party that is no longer one.
func (s *Store) membershipItems(cur, next *release.Release, archive bool) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	now := map[string]bool{}
	if next != nil && !archive {
		for _, id := range next.Right.Members() {
			now[id] = true
			m := Membership{
				BillOfLadingKey: next.BillOfLadingKey, Status: next.Right.ViewStatus(id),
				ActionStatus: next.Right.ViewAction(id), Light: string(next.Light), ShippingID: next.CarrierID,
				TerminalID: next.TerminalOperatorID, HolderID: next.Right.Holder, BLs: joinBLs(next.Data.BillOfLadingNumbers),
			}
			item, err := attributevalue.MarshalMap(m)
			if err != nil {
				return nil, err
			}
			item[attrPK], item[attrSK] = str(rightsPK(id)), str(rightsSK(next))
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item}})
		}
	}
	if cur != nil {
		for _, id := range cur.Right.Members() {
			if !now[id] {
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(rightsPK(id), rightsSK(cur))}})
			}
		}
	}
	return items, nil
}

func joinBLs(bls []string) string {
	out := ""
	for i, b := range bls {
		if i > 0 {
			out += " "
		}
		out += b
	}
	return out
}

// RightsOf reads every right listed for a party in a port (Query on its partition) and says how
// many Query calls it took.
func (s *Store) RightsOf(ctx context.Context, entity, port string) ([]Membership, int, error) {
	var out []Membership
	calls := 0
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :port)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(rightsPK(entity)), ":port": str(port + "#")},
	}
	for {
		res, err := s.db.Query(ctx, in)
		calls++
		if err != nil {
			return nil, calls, err
		}
		for _, it := range res.Items {
			var m Membership
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return nil, calls, err
			}
			parts := strings.SplitN(sVal(it[attrSK]), "#", 3)
			if len(parts) != 3 {
				return nil, calls, fmt.Errorf("malformed right membership %q", sVal(it[attrSK]))
			}
			m.Port, m.Container, m.ReleaseID = parts[0], parts[1], parts[2]
			out = append(out, m)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, calls, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// Releases reads active releases by membership (one BatchGetItem for a page of at most 100).
func (s *Store) Releases(ctx context.Context, ms []Membership) ([]release.Release, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(ms))
	for _, m := range ms {
		keys = append(keys, key(releasePK(m.Port, m.Container), activeSK(m.ShippingID, m.BillOfLadingKey)))
	}
	byID := map[string]release.Release{}
	err := s.batchGet(ctx, keys, false, func(it map[string]types.AttributeValue) error {
		var r release.Release
		if err := attributevalue.UnmarshalMapWithOptions(it, &r, jsonTagsDecode); err != nil {
			return err
		}
		byID[r.ReleaseID] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := make([]release.Release, 0, len(ms))
	for _, m := range ms {
		if r, ok := byID[m.ReleaseID]; ok {
			res = append(res, r)
		}
	}
	return res, nil
}

// ActiveOnContainer reads the active releases of a container (strongly consistent Query).
func (s *Store) ActiveOnContainer(ctx context.Context, port, container string) ([]release.Release, error) {
	var out []release.Release
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(releasePK(port, container)), ":a": str("ACTIVE#")},
		ConsistentRead:            aws.Bool(true),
	}, func(it map[string]types.AttributeValue) error {
		var r release.Release
		if err := attributevalue.UnmarshalMapWithOptions(it, &r, jsonTagsDecode); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// PutReadOutcome records the answer of an async read (E2, E5): the stream's notifier delivers it
// to the requester. It lives 168 hours, like the notification made of it.
func (s *Store) PutReadOutcome(ctx context.Context, o release.Outcome) error {
	item, err := attributevalue.MarshalMapWithOptions(o, jsonTags)
	if err != nil {
		return err
	}
	pk := "READ#" + o.Requester
	item[attrPK], item[attrSK], item[attrItemType] = str(pk), str(outcomeSK(o.PublicReferenceID, o.Item)), str("Outcome")
	// Both index keys, as on notifications: DynamoDB Local never TTL-deletes an item without them.
	item[attrGSI1PK], item[attrGSI1SK] = str(pk), str(o.PublicReferenceID)
	item[attrGSI2PK], item[attrGSI2SK] = str(pk), str(o.PublicReferenceID)
	item["expiresAt"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(o.At.Add(168*3600e9).Unix(), 10)}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return err
}

// Import writes releases as they are, with their membership items, by BatchWriteItem: for migrating
// an existing port community's releases and for load tests. It records no outcome, so nobody is
// notified, and it does not check uniqueness: import into a table that does not hold them yet.
func (s *Store) Import(ctx context.Context, rels []release.Release) error {
	var reqs []types.WriteRequest
	for i := range rels {
		r := &rels[i]
		item, err := s.releaseItem(r, releasePK(r.PortLoCode, r.EquipmentNumber), activeSK(r.CarrierID, r.BillOfLadingKey), true)
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		ms, err := s.membershipItems(nil, r, false)
		if err != nil {
			return err
		}
		for _, m := range ms {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: m.Put.Item}})
		}
	}
	return s.batchWrite(ctx, reqs)
}
