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
	"github.com/portcommunity/cpu/shared/gate"
	"github.com/portcommunity/cpu/shared/release"
)

// pinGuardPrefix starts the sort key of an assignment's PIN guard: under the container's ACTIVE
// prefix, so the gate reads it with the releases ('!' sorts before '#').
const pinGuardPrefix = "ACTIVE!PIN#"

func gateSK(at time.Time, id string) string {
	return "GATE#" + at.UTC().Format(time.RFC3339Nano) + "#" + id
}

// ContainerState reads a container's visit, active releases and PIN guards: the gate's one Query.
// It is strongly consistent, so a validation right after an assignment or a wrong PIN sees it.
func (s *Store) ContainerState(ctx context.Context, port, container string) (release.ContainerState, error) {
	return s.containerState(ctx, port, container, true)
}

// RecordValidation keeps a gate validation in the container's history and, after a failed one,
// the assignment's PIN guard (conditioned on the guard's version read, so two gates failing at
// once both count): one transaction. gate.ErrGuardChanged: read again and judge again.
func (s *Store) RecordValidation(ctx context.Context, v gate.Record, g *gate.GuardWrite) error {
	item, err := attributevalue.MarshalMapWithOptions(v, jsonTags)
	if err != nil {
		return err
	}
	pk := releasePK(v.PortLoCode, v.EquipmentNumber)
	item[attrPK], item[attrSK], item[attrItemType] = str(pk), str(gateSK(v.At, v.ID)), str("GateValidation")
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: item}}}
	if g != nil {
		gi, err := attributevalue.MarshalMapWithOptions(g.Next, jsonTags)
		if err != nil {
			return err
		}
		gi[attrPK], gi[attrSK], gi[attrItemType] = str(pk), str(pinGuardPrefix+g.Key), str("PinGuard")
		put := &types.Put{TableName: &s.table, Item: gi, ConditionExpression: aws.String("attribute_not_exists(pk)")}
		if g.Next.Version > 1 {
			put.ConditionExpression = aws.String("version = :v")
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(g.Next.Version - 1)}}
		}
		items = append(items, types.TransactWriteItem{Put: put})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return gate.ErrGuardChanged
	}
	return err
}

// Validations returns a container's gate validations, oldest first (support and tests).
func (s *Store) Validations(ctx context.Context, port, container string) ([]gate.Record, error) {
	var out []gate.Record
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :g)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(releasePK(port, container)), ":g": str("GATE#")},
		ConsistentRead:            aws.Bool(true),
	}, func(it map[string]types.AttributeValue) error {
		var r gate.Record
		if err := attributevalue.UnmarshalMapWithOptions(it, &r, jsonTagsDecode); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// ChainParties returns every party of a release's chain of custody (senders and receivers of its
// hops), paging through the hops with only those two attributes read: who hears of a gate-out.
func (s *Store) ChainParties(ctx context.Context, port, container, releaseID string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :h)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(releasePK(port, container)), ":h": str(hopPrefix(releaseID))},
		ExpressionAttributeNames:  map[string]string{"#f": "from", "#t": "to"},
		ProjectionExpression:      aws.String("#f, #t"),
		ConsistentRead:            aws.Bool(true), // the hop of the command just before is in
	}, func(it map[string]types.AttributeValue) error {
		for _, a := range []string{"from", "to"} {
			if id := sVal(it[a]); id != "" && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		return nil
	})
	return out, err
}
