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

func rightsPK(entity string) string { return "RIGHTS#" + entity }

// counterShards spreads a party's right counter over items, so that concurrent transactions on
// different containers of one busy party rarely touch the same item (which would conflict).
const counterShards = 16

func counterSK(port string, shard int) string { return fmt.Sprintf("#COUNT#%s#%02d", port, shard) }

func shardOf(container string) int {
	h := 0
	for _, c := range container {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	return h % counterShards
}

func (s *Store) countItem(entity, port, container string, delta int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 &s.table,
		Key:                       key(rightsPK(entity), counterSK(port, shardOf(container))),
		UpdateExpression:          aws.String("ADD rights :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberN{Value: strconv.Itoa(delta)}},
	}}
}
func rightsSK(r *release.Release) string {
	return r.PortLoCode + "#" + r.EquipmentNumber + "#" + r.ReleaseID
}

// membershipItems keeps the parties' lists in step with a release change: an item for every
// member of the new state, a delete for every party that is no longer one, and the parties' right
// counters moved by one where membership begins or ends.
func (s *Store) membershipItems(cur, next *release.Release, archive bool) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	now, before := map[string]bool{}, map[string]bool{}
	if cur != nil {
		for _, id := range cur.Right.Members() {
			before[id] = true
		}
	}
	if next != nil && !archive {
		for _, id := range next.Right.Members() {
			now[id] = true
			m := release.Membership{
				BillOfLadingKey: next.BillOfLadingKey, Status: next.Right.ViewStatus(id),
				ActionStatus: next.Right.ViewAction(id), Light: string(next.Light), ShippingID: next.CarrierID,
				TerminalID: next.TerminalOperatorID, HolderID: next.Right.Holder, BLs: joinBLs(next.Data.BillOfLadingNumbers),
				AuthoritiesNotOK: next.Lights.OrStarting().AuthoritiesNotOK(), TerminalNotOK: next.Lights.OrStarting().TerminalNotOK(),
			}
			item, err := attributevalue.MarshalMap(m)
			if err != nil {
				return nil, err
			}
			item[attrPK], item[attrSK] = str(rightsPK(id)), str(rightsSK(next))
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item}})
			if !before[id] {
				items = append(items, s.countItem(id, next.PortLoCode, next.EquipmentNumber, 1))
			}
		}
	}
	if cur != nil {
		for _, id := range cur.Right.Members() {
			if !now[id] {
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(rightsPK(id), rightsSK(cur))}})
				items = append(items, s.countItem(id, cur.PortLoCode, cur.EquipmentNumber, -1))
			}
		}
	}
	return items, nil
}

// CountRights is how many rights a party has in a port: the sum of its counter shards (one
// BatchGetItem).
func (s *Store) CountRights(ctx context.Context, entity, port string) (int, error) {
	keys := make([]map[string]types.AttributeValue, counterShards)
	for i := range keys {
		keys[i] = key(rightsPK(entity), counterSK(port, i))
	}
	total := 0
	err := s.batchGet(ctx, keys, false, func(it map[string]types.AttributeValue) error {
		if n, ok := it["rights"].(*types.AttributeValueMemberN); ok {
			v, err := strconv.Atoi(n.Value)
			total += v
			return err
		}
		return nil
	})
	return total, err
}

// RightsPage reads the first n rights of a party in a port, in the list's order (container, then
// release id): one Query while they fit in a 1 MB page.
func (s *Store) RightsPage(ctx context.Context, entity, port string, n int) ([]release.Membership, int, error) {
	return s.rights(ctx, entity, port, n)
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
func (s *Store) RightsOf(ctx context.Context, entity, port string) ([]release.Membership, int, error) {
	return s.rights(ctx, entity, port, 0)
}

// rights reads a party's memberships in a port, all of them (limit 0) or the first limit.
func (s *Store) rights(ctx context.Context, entity, port string, limit int) ([]release.Membership, int, error) {
	var out []release.Membership
	calls := 0
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :port)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(rightsPK(entity)), ":port": str(port + "#")},
	}
	for {
		if limit > 0 {
			in.Limit = aws.Int32(int32(limit - len(out)))
		}
		res, err := s.db.Query(ctx, in)
		calls++
		if err != nil {
			return nil, calls, err
		}
		for _, it := range res.Items {
			var m release.Membership
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
		if len(res.LastEvaluatedKey) == 0 || (limit > 0 && len(out) >= limit) {
			return out, calls, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// Releases reads active releases by membership (one BatchGetItem for a page of at most 100).
func (s *Store) Releases(ctx context.Context, ms []release.Membership) ([]release.Release, error) {
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

// Import writes releases as they are, with their membership items, by BatchWriteItem: for migrating
// an existing port community's releases and for load tests. It records no outcome, so nobody is
// notified, and it does not check uniqueness: import into a table that does not hold them yet.
func (s *Store) Import(ctx context.Context, rels []release.Release) error {
	var reqs []types.WriteRequest
	counts := map[[3]string]int{}
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
			if m.Put != nil {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: m.Put.Item}})
			}
		}
		for _, id := range r.Right.Members() {
			counts[[3]string{id, r.PortLoCode, counterSK(r.PortLoCode, shardOf(r.EquipmentNumber))}]++
		}
	}
	for k, n := range counts {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			attrPK: str(rightsPK(k[0])), attrSK: str(k[2]), "rights": &types.AttributeValueMemberN{Value: strconv.Itoa(n)},
		}}})
	}
	return s.batchWrite(ctx, reqs)
}
