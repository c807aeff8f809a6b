package store

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// attemptsKept outlives any message: SQS keeps a message at most 14 days.
const attemptsKept = 14 * 24 * time.Hour

// maxErrorChars keeps the recorded error small.
const maxErrorChars = 1000

// Failed counts a failed attempt at a queue message and records its error (consumer.Attempts).
// Only failures write: a command that applies at its first attempt costs nothing here.
func (s *Store) Failed(ctx context.Context, messageID, reason string) (int, error) {
	if r := []rune(reason); len(r) > maxErrorChars {
		reason = string(r[:maxErrorChars])
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key("ATTEMPT#"+messageID, "ATTEMPT"),
		UpdateExpression: aws.String("ADD attempts :one SET lastError = :e, itemType = :t, expiresAt = :x"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"}, ":e": str(reason), ":t": str("Attempts"),
			":x": &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(attemptsKept).Unix(), 10)},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, err
	}
	n, _ := out.Attributes["attempts"].(*types.AttributeValueMemberN)
	if n == nil {
		return 0, nil
	}
	return strconv.Atoi(n.Value)
}
