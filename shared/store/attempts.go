package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// attemptsKept outlives any message: SQS keeps a message at most 14 days.
const attemptsKept = 14 * 24 * time.Hour

// maxErrorChars keeps the recorded error small.
const maxErrorChars = 1000

// Begin counts an attempt at a redelivered queue message before it is made and answers the
// attempts so far and the last error recorded (consumer.Attempts). A first delivery writes
// nothing: a command that applies at once costs nothing here.
func (s *Store) Begin(ctx context.Context, messageID string) (int, string, error) {
	return s.attempt(ctx, messageID, "ADD attempts :one SET itemType = :t, expiresAt = :x", nil)
}

// Failed records the error of a failed attempt, counting the attempt unless Begin did.
func (s *Store) Failed(ctx context.Context, messageID, reason string, counted bool) (int, error) {
	if r := []rune(reason); len(r) > maxErrorChars {
		reason = string(r[:maxErrorChars])
	}
	update := "ADD attempts :one SET lastError = :e, itemType = :t, expiresAt = :x"
	if counted {
		update = "SET lastError = :e, itemType = :t, expiresAt = :x"
	}
	n, _, err := s.attempt(ctx, messageID, update, map[string]types.AttributeValue{":e": str(reason)})
	return n, err
}

func (s *Store) attempt(ctx context.Context, messageID, update string, more map[string]types.AttributeValue) (int, string, error) {
	vals := map[string]types.AttributeValue{
		":t": str("Attempts"),
		":x": &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(attemptsKept).Unix(), 10)},
	}
	if strings.Contains(update, ":one") {
		vals[":one"] = &types.AttributeValueMemberN{Value: "1"}
	}
	for k, v := range more {
		vals[k] = v
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key("ATTEMPT#"+messageID, "ATTEMPT"),
		UpdateExpression: aws.String(update), ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return 0, "", err
	}
	n := 0
	if v, ok := out.Attributes["attempts"].(*types.AttributeValueMemberN); ok {
		n, _ = strconv.Atoi(v.Value)
	}
	return n, sVal(out.Attributes["lastError"]), nil
}
