package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/identity"
)

// Failed client authentications, one item per (client id, source IP): the token endpoint's
// slow-down (auth.FailureLog). The client id comes from whoever calls the public endpoint, so the
// partition key holds its SHA-256 (a bounded key, whatever was sent); the source IP is API
// Gateway's. The item expires (TTL) at the end of its window; until DynamoDB removes it, readers
// judge it by its window end, never by its presence.
const (
	attrFailures     = "failures"
	attrWindowEnd    = "windowEndMs"
	attrBlockedUntil = "blockedUntilMs"
	attrExpiresAt    = "expiresAt"
	// maxStoredClientID keeps an arbitrary posted client id from bloating the item.
	maxStoredClientID = 128
)

func authFailuresPK(clientID string) string {
	sum := sha256.Sum256([]byte(clientID))
	// The prefix is in the catalog: the token function's IAM grant is limited to it.
	return catalog.AuthFailuresPrefix + hex.EncodeToString(sum[:])
}

func authFailuresSK(sourceIP string) string { return "IP#" + sourceIP }

// AuthFailures reads a pair's record as stored (the zero record when there is none).
func (s *Store) AuthFailures(ctx context.Context, clientID, sourceIP string) (identity.AuthFailures, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(authFailuresPK(clientID), authFailuresSK(sourceIP)),
		// Strongly consistent: a failure counted a moment ago by another instance must count.
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return identity.AuthFailures{}, err
	}
	return identity.AuthFailures{
		Count:        int(numberOf(out.Item[attrFailures])),
		WindowEnd:    time.UnixMilli(numberOf(out.Item[attrWindowEnd])),
		BlockedUntil: time.UnixMilli(numberOf(out.Item[attrBlockedUntil])),
	}, nil
}

// SaveAuthFailures replaces prev, the record as read, with next in one conditional write;
// identity.ErrChanged when another write came first.
func (s *Store) SaveAuthFailures(ctx context.Context, clientID, sourceIP string, prev, next identity.AuthFailures) error {
	storedID := clientID
	if len(storedID) > maxStoredClientID {
		storedID = storedID[:maxStoredClientID]
	}
	item := key(authFailuresPK(clientID), authFailuresSK(sourceIP))
	item[attrItemType] = str("AuthFailures")
	item["clientId"] = str(storedID)
	item["sourceIp"] = str(sourceIP)
	item[attrFailures] = num(int64(next.Count))
	item[attrWindowEnd] = num(next.WindowEnd.UnixMilli())
	item[attrBlockedUntil] = num(next.BlockedUntil.UnixMilli())
	// TTL is in epoch seconds: round up so the item never goes before its window ends.
	item[attrExpiresAt] = num((next.WindowEnd.UnixMilli() + 999) / 1000)
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: item}
	if prev == (identity.AuthFailures{}) {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("#f = :f AND #w = :w")
		in.ExpressionAttributeNames = map[string]string{"#f": attrFailures, "#w": attrWindowEnd}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":f": num(int64(prev.Count)), ":w": num(prev.WindowEnd.UnixMilli()),
		}
	}
	_, err := s.db.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return identity.ErrChanged
	}
	return err
}

// ClearAuthFailures deletes a pair's record.
func (s *Store) ClearAuthFailures(ctx context.Context, clientID, sourceIP string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(authFailuresPK(clientID), authFailuresSK(sourceIP))})
	return err
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func numberOf(v types.AttributeValue) int64 {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	i, _ := strconv.ParseInt(n.Value, 10, 64)
	return i
}
