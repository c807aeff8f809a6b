package catalog

// Projection is what a global secondary index copies of each item.
type Projection int

const (
	// ProjectAll copies every attribute: reads of the index need nothing else.
	ProjectAll Projection = iota
	// ProjectInclude copies the keys and the named attributes: enough to filter, small to write;
	// the reader fetches the few items it returns from the table.
	ProjectInclude
)

// Index is a global secondary index of the single table.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
	Projection   Projection
	Include      []string // the attributes ProjectInclude copies
}

// TableSchema describes the single table. Every key attribute is a string.
type TableSchema struct {
	PartitionKey string
	SortKey      string
	Indexes      []Index
	// TTLAttribute holds an epoch-seconds expiry; DynamoDB deletes the item some time after it.
	TTLAttribute string
}

// notificationFilters are the attributes E7 filters on besides the key it queries by.
var notificationFilters = []string{"event", "equipmentNumber", "releaseId"}

// SingleTable is the platform's one DynamoDB table: pay per request, stream NEW_AND_OLD_IMAGES,
// point-in-time recovery (set by the CDK stack). Item layouts are documented in shared/store/keys.go.
//
// gsi1 is overloaded (entities by name, an entity's credentials, releases by expiry day) and copies
// everything. The four notification indexes serve E7's filters by key: every notification is in
// byReference, byEvent and (when it has them) byContainer and byRelease, each sparse where the
// value is absent, so no key collects what has no value. They copy only the keys and the
// attributes E7 filters on: a notification (often kilobytes) is written once at full size.
var SingleTable = TableSchema{
	PartitionKey: "pk",
	SortKey:      "sk",
	Indexes: []Index{
		{Name: "gsi1", PartitionKey: "gsi1pk", SortKey: "gsi1sk", Projection: ProjectAll},
		{Name: "notifByReference", PartitionKey: "nrpk", SortKey: "nrsk", Projection: ProjectInclude, Include: notificationFilters},
		{Name: "notifByRelease", PartitionKey: "nlpk", SortKey: "nlsk", Projection: ProjectInclude, Include: notificationFilters},
		{Name: "notifByContainer", PartitionKey: "ncpk", SortKey: "ncsk", Projection: ProjectInclude, Include: notificationFilters},
		{Name: "notifByEvent", PartitionKey: "nepk", SortKey: "nesk", Projection: ProjectInclude, Include: notificationFilters},
	},
	TTLAttribute: "expiresAt",
}
