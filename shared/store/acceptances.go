package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/release"
)

const skAcceptance = "ACCEPT"

// acceptanceKey is the key of a call's acceptance: the caller's client and Idempotency-Key when it
// sent one (so a retry finds it; the key is hashed to bound its size), else the call's own public
// reference. Every one starts with catalog.AcceptancePrefix: E1, E3 and E4 may write these items
// and no others (IAM's LeadingKeys).
func acceptanceKey(a release.Acceptance) string {
	if a.IdempotencyKey == "" {
		return catalog.AcceptancePrefix + "REF#" + a.PublicReferenceID
	}
	sum := sha256.Sum256([]byte(a.IdempotencyKey))
	return catalog.AcceptancePrefix + "IDEM#" + a.ClientID + "#" + hex.EncodeToString(sum[:])
}

// Accept writes an acceptance unless a live one (inside the idempotency window) has its key, in
// one conditional PutItem: the call is accepted exactly when this write succeeds. When one exists
// it answers that one (fresh false). When the write's answer is lost (a timeout after DynamoDB
// applied it), reading the key tells whether it was ours.
func (s *Store) Accept(ctx context.Context, a release.Acceptance, now time.Time) (release.Acceptance, bool, error) {
	a.Key = acceptanceKey(a)
	cmds, err := json.Marshal(a.Commands)
	if err != nil {
		return a, false, err
	}
	if len(cmds) > release.MaxAcceptanceBytes {
		return a, false, release.ErrRequestTooLarge
	}
	item := map[string]types.AttributeValue{
		attrPK: str(a.Key), attrSK: str(skAcceptance), attrItemType: str("Acceptance"),
		"publicReferenceId": str(a.PublicReferenceID), "fingerprint": str(a.Fingerprint), "commands": str(string(cmds)),
		"acceptedAt": str(a.AcceptedAt.UTC().Format(time.RFC3339Nano)), "expiresAt": expiresAt(a),
	}
	if a.ExternalReferenceID != nil {
		item["externalReferenceId"] = str(*a.ExternalReferenceID)
	}
	if err := checkSize("acceptance "+a.Key, item); err != nil {
		return a, false, release.ErrRequestTooLarge
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		// An acceptance whose window has passed is replaced (TTL removes items late).
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR expiresAt < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
		// A retry gets the stored acceptance back with the refusal: no second read.
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return a, true, nil
	case errors.As(err, &ccf) && ccf.Item != nil:
		stored, derr := acceptanceOf(ccf.Item)
		return stored, false, derr
	}
	// The answer is unknown: the write may have been applied before it failed.
	stored, found, rerr := s.acceptance(ctx, a.Key)
	if rerr == nil && found && stored.PublicReferenceID == a.PublicReferenceID {
		return stored, true, nil
	}
	return a, false, err
}

func expiresAt(a release.Acceptance) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(a.AcceptedAt.Add(release.IdempotencyWindow).Unix(), 10)}
}

// queuedSK marks the acceptance of one call (its public reference) queued: a small item of its own,
// so that marking costs one write unit, not a rewrite of the commands.
func queuedSK(ref string) string { return "QUEUED#" + ref }

// acceptance reads an acceptance (strongly consistent); found is false when there is none.
func (s *Store) acceptance(ctx context.Context, k string) (release.Acceptance, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(k, skAcceptance), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return release.Acceptance{}, false, err
	}
	a, err := acceptanceOf(out.Item)
	return a, true, err
}

func acceptanceOf(it map[string]types.AttributeValue) (release.Acceptance, error) {
	a := release.Acceptance{Key: sVal(it[attrPK]), PublicReferenceID: sVal(it["publicReferenceId"]), Fingerprint: sVal(it["fingerprint"])}
	if ext, ok := it["externalReferenceId"].(*types.AttributeValueMemberS); ok {
		a.ExternalReferenceID = &ext.Value
	}
	a.AcceptedAt, _ = time.Parse(time.RFC3339Nano, sVal(it["acceptedAt"]))
	err := json.Unmarshal([]byte(sVal(it["commands"])), &a.Commands)
	return a, err
}

// Queued tells whether the acceptance's commands are marked queued (a strongly consistent read of
// its mark).
func (s *Store) Queued(ctx context.Context, a release.Acceptance) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(a.Key, queuedSK(a.PublicReferenceID)),
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("pk")})
	if err != nil {
		return false, err
	}
	return out.Item != nil, nil
}

// AcceptanceFromStream reads an acceptance from a stream record's new image, commands included.
func AcceptanceFromStream(image map[string]events.DynamoDBAttributeValue) (release.Acceptance, error) {
	return acceptanceOf(fromStream(image))
}

// MarkQueued records that every command of the acceptance is on the queue, so the relay has nothing
// to do for it.
func (s *Store) MarkQueued(ctx context.Context, a release.Acceptance) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: map[string]types.AttributeValue{
		attrPK: str(a.Key), attrSK: str(queuedSK(a.PublicReferenceID)), attrItemType: str("AcceptanceQueued"), "expiresAt": expiresAt(a),
	}})
	return err
}
