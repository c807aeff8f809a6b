package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/portcommunity/cpu/shared/catalog"
)

// CreateTable makes the single table as the CDK stack does: same keys, indexes, stream and TTL.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string, schema catalog.TableSchema) error {
	return createTable(ctx, db, name, schema, true)
}

// CreateTableWithoutStream makes the table without its stream, for tests that write tens of
// thousands of items and read them back without the stream's consumers: DynamoDB Local's stream
// bookkeeping grows with every record of every table and slows everything down as it grows.
func CreateTableWithoutStream(ctx context.Context, db *dynamodb.Client, name string, schema catalog.TableSchema) error {
	return createTable(ctx, db, name, schema, false)
}

func createTable(ctx context.Context, db *dynamodb.Client, name string, schema catalog.TableSchema, stream bool) error {
	attrs := map[string]bool{schema.PartitionKey: true, schema.SortKey: true}
	var gsis []dtypes.GlobalSecondaryIndex
	for _, ix := range schema.Indexes {
		attrs[ix.PartitionKey], attrs[ix.SortKey] = true, true
		gsis = append(gsis, dtypes.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []dtypes.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: dtypes.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: dtypes.KeyTypeRange},
			},
			Projection: projection(ix),
		})
	}
	var defs []dtypes.AttributeDefinition
	for a := range attrs {
		defs = append(defs, dtypes.AttributeDefinition{AttributeName: aws.String(a), AttributeType: dtypes.ScalarAttributeTypeS})
	}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: defs,
		KeySchema: []dtypes.KeySchemaElement{
			{AttributeName: aws.String(schema.PartitionKey), KeyType: dtypes.KeyTypeHash},
			{AttributeName: aws.String(schema.SortKey), KeyType: dtypes.KeyTypeRange},
		},
		GlobalSecondaryIndexes: gsis,
		BillingMode:            dtypes.BillingModePayPerRequest,
		StreamSpecification:    streamSpec(stream),
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	// TTL is not switched on in DynamoDB Local: it never deletes an item that lacks the key of a
	// sparse index, and then stops deleting for the whole table. The local stack's TTLSweeper
	// deletes expired items instead (reads filter them out either way, as they must in AWS).
	return nil
}

func projection(ix catalog.Index) *dtypes.Projection {
	if ix.Projection == catalog.ProjectInclude {
		return &dtypes.Projection{ProjectionType: dtypes.ProjectionTypeInclude, NonKeyAttributes: ix.Include}
	}
	return &dtypes.Projection{ProjectionType: dtypes.ProjectionTypeAll}
}

// QueueURLs maps catalog queue names (and their DLQs' names) to URLs.
type QueueURLs map[string]string

// CreateQueue makes a queue and its DLQ with the redrive the CDK stack sets.
func CreateQueue(ctx context.Context, client *sqs.Client, q catalog.Queue, urls QueueURLs) error {
	attrs := func() map[string]string {
		a := map[string]string{"VisibilityTimeout": strconv.Itoa(int(q.VisibilityTimeout.Seconds())), "MessageRetentionPeriod": "1209600"}
		if q.FIFO {
			a["FifoQueue"] = "true"
		}
		return a
	}
	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.DLQName()), Attributes: attrs()})
	if err != nil {
		return fmt.Errorf("create %s: %w", q.DLQName(), err)
	}
	got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return err
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": got.Attributes["QueueArn"], "maxReceiveCount": q.MaxReceives})
	a := attrs()
	a["RedrivePolicy"] = string(redrive)
	if q.FIFO && q.HighThroughput {
		a["DeduplicationScope"], a["FifoThroughputLimit"] = "messageGroup", "perMessageGroupId"
	}
	main, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.PhysicalName()), Attributes: a})
	if err != nil {
		return fmt.Errorf("create %s: %w", q.PhysicalName(), err)
	}
	urls[q.Name] = aws.ToString(main.QueueUrl)
	urls[q.DLQName()] = aws.ToString(dlq.QueueUrl)
	return nil
}

func streamSpec(on bool) *dtypes.StreamSpecification {
	if !on {
		return nil
	}
	return &dtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: dtypes.StreamViewTypeNewAndOldImages}
}
