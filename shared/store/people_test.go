package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/people"
)

// TestPasswordHashStaysOffTheEntityIndex: the person's item, which the entity index projects to every
// function with table read, holds no password hash; sign-in's look-up by e-mail finds it.
func TestPasswordHashStaysOffTheEntityIndex(t *testing.T) {
	t.Parallel()
	s, db, table := newStore(t)
	ctx := context.Background()
	hash, _ := people.HashPassword("a river of quiet lanterns")
	p := people.Person{UserID: "00000000-0000-4000-9000-000000000001", Email: "anna@example.com", FirstName: "Anna", LastName: "P",
		EntityID: "NXT200000001", Role: people.Admin, Status: people.Active, CreatedAt: time.Now().UTC(), PasswordHash: hash}
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "ENT#NXT200000001"}}})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("index: %v %d", err, len(out.Items))
	}
	for k := range out.Items[0] {
		if k == "passwordHash" {
			t.Fatal("the entity index shows the password hash")
		}
	}
	if byID, err := s.Person(ctx, p.UserID); err != nil || byID.PasswordHash != "" {
		t.Fatalf("by id: %+v %v", byID, err)
	}
	if byEmail, err := s.PersonByEmail(ctx, "anna@example.com"); err != nil || !people.VerifyPassword("a river of quiet lanterns", byEmail.PasswordHash) {
		t.Fatalf("by e-mail: %+v %v", byEmail, err)
	}
	if _, err := s.PersonByEmail(ctx, "nobody@example.com"); err != people.ErrNotFound {
		t.Fatalf("unknown: %v", err)
	}
}
