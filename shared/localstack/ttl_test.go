package localstack_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/localstack"
)

// TestTTLSweeperDeletesOnlyExpiredItems: the local stand-in for DynamoDB's TTL removes the items
// whose expiresAt has passed, sparse index keys or not, and leaves the rest.
func TestTTLSweeperDeletesOnlyExpiredItems(t *testing.T) {
	b := backends(t)
	ctx := context.Background()
	db := b.DynamoDB()
	if err := localstack.CreateTable(ctx, db, "ttl", catalog.SingleTable); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	put := func(sk string, expires time.Time, sparse bool) {
		item := map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: "P"}, "sk": &dtypes.AttributeValueMemberS{Value: sk}}
		if !expires.IsZero() {
			item["expiresAt"] = &dtypes.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)}
		}
		if sparse {
			item["ncpk"], item["ncsk"] = &dtypes.AttributeValueMemberS{Value: "NC#x"}, &dtypes.AttributeValueMemberS{Value: sk}
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ttl"), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 60; i++ {
		put("expired-"+strconv.Itoa(i), now.Add(-time.Minute), i%2 == 0)
	}
	put("live", now.Add(time.Minute), true)
	put("forever", time.Time{}, false)
	s := &localstack.TTLSweeper{DB: db, Table: "ttl", Attribute: "expiresAt"}
	if n, err := s.Sweep(ctx, now); err != nil || n != 60 {
		t.Fatalf("swept %d, %v", n, err)
	}
	out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("ttl"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]dtypes.AttributeValue{":p": &dtypes.AttributeValueMemberS{Value: "P"}}})
	if err != nil || len(out.Items) != 2 {
		t.Fatalf("%d items left, %v", len(out.Items), err)
	}
}
