package catalog

// Index is a global secondary index of the single table (all attributes projected).
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
}

// TableSchema describes the single table. Every key attribute is a string.
type TableSchema struct {
	PartitionKey string
	SortKey      string
	Indexes      []Index
	// TTLAttribute holds an epoch-seconds expiry; DynamoDB deletes the item some time after it.
	TTLAttribute string
}

// SingleTable is the platform's one DynamoDB table: pay per request, stream NEW_AND_OLD_IMAGES,
// point-in-time recovery (set by the CDK stack). Item layouts are documented in shared/store/keys.go.
var SingleTable = TableSchema{
	PartitionKey: "pk",
	SortKey:      "sk",
	Indexes: []Index{
		{Name: "gsi1", PartitionKey: "gsi1pk", SortKey: "gsi1sk"},
		{Name: "gsi2", PartitionKey: "gsi2pk", SortKey: "gsi2sk"},
	},
	TTLAttribute: "expiresAt",
}
