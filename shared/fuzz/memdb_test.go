package fuzz

import (
	"context"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/store"
)

// memDB is the single table in memory, behind the same store.Store the functions use in AWS: a
// request reaches DynamoDB as keys, key conditions and items that the request shapes (a client id
// in a key, a page token as a range bound), so the fuzz tests fake DynamoDB itself rather than the
// handlers' ports. It refuses what DynamoDB refuses of values a request can shape (each rule
// below was checked against DynamoDB Local), so a request that would make DynamoDB fail comes
// back as the 500 it would cause in AWS. It understands the expressions shared/store writes and
// nothing else: anything else is an error too, so a new expression cannot pass unnoticed.
type memDB struct {
	items map[tableKey]item
}

type tableKey struct{ pk, sk string }

type item = map[string]types.AttributeValue

// DynamoDB's key limits: "Hash primary key values must be under 2048 bytes, and range primary
// key values must be under 1024 bytes"; no key value may be empty.
const (
	maxPartitionKeyBytes = 2048
	maxSortKeyBytes      = 1024
	maxItemBytes         = 400 * 1024
	maxBatchGetKeys      = 100
	maxBatchWrites       = 25
	maxTransactItems     = 100
)

var schema = catalog.SingleTable

func newMemDB() *memDB { return &memDB{items: map[tableKey]item{}} }

// clone copies the table (items are never changed in place: a write replaces the item), so that
// each fuzz input starts from the same state and a failure reproduces alone.
func (m *memDB) clone() *memDB {
	c := &memDB{items: make(map[tableKey]item, len(m.items))}
	for k, v := range m.items {
		c.items[k] = v
	}
	return c
}

func invalid(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...)}
}

func unsupported(what string) error {
	return fmt.Errorf("memDB does not understand %s (extend the fake)", what)
}

func copyItem(it item) item {
	out := make(item, len(it))
	for k, v := range it {
		out[k] = v
	}
	return out
}

// keyValue checks one key attribute's value as DynamoDB does.
func keyValue(name string, v types.AttributeValue, limit int) (string, error) {
	s, ok := v.(*types.AttributeValueMemberS)
	switch {
	case !ok:
		return "", invalid("One or more parameter values were invalid: Type mismatch for key %s", name)
	case s.Value == "":
		return "", invalid("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", name)
	case len(s.Value) > limit:
		return "", invalid("Hash primary key values must be under 2048 bytes, and range primary key values must be under 1024 bytes")
	}
	return s.Value, nil
}

// keyOf reads a table key (GetItem, DeleteItem, BatchGetItem): exactly pk and sk.
func keyOf(k item) (tableKey, error) {
	if len(k) != 2 {
		return tableKey{}, invalid("The provided key element does not match the schema")
	}
	pk, err := keyValue(schema.PartitionKey, k[schema.PartitionKey], maxPartitionKeyBytes)
	if err != nil {
		return tableKey{}, err
	}
	sk, err := keyValue(schema.SortKey, k[schema.SortKey], maxSortKeyBytes)
	return tableKey{pk, sk}, err
}

// checkItem validates an item to write: its table key, any index key it carries, its size.
func checkItem(it item) (tableKey, error) {
	k, err := keyOf(item{schema.PartitionKey: it[schema.PartitionKey], schema.SortKey: it[schema.SortKey]})
	if err != nil {
		return k, err
	}
	for _, idx := range schema.Indexes {
		for name, limit := range map[string]int{idx.PartitionKey: maxPartitionKeyBytes, idx.SortKey: maxSortKeyBytes} {
			if v, ok := it[name]; ok {
				if _, err := keyValue(name, v, limit); err != nil {
					return k, err
				}
			}
		}
	}
	if store.ItemSize(it) > maxItemBytes {
		return k, invalid("Item size has exceeded the maximum allowed size")
	}
	return k, nil
}

func (m *memDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	k, err := keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	out := &dynamodb.GetItemOutput{}
	if it, ok := m.items[k]; ok {
		out.Item = copyItem(it)
	}
	return out, nil
}

func (m *memDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	k, err := checkItem(in.Item)
	if err != nil {
		return nil, err
	}
	if err := m.check(k, aws.ToString(in.ConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ReturnValuesOnConditionCheckFailure); err != nil {
		return nil, err
	}
	m.items[k] = copyItem(in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

func (m *memDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	k, err := keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	if err := m.check(k, aws.ToString(in.ConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ReturnValuesOnConditionCheckFailure); err != nil {
		return nil, err
	}
	next, err := m.updated(k, in.Key, aws.ToString(in.UpdateExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	m.items[k] = next
	return &dynamodb.UpdateItemOutput{}, nil
}

var setClause = regexp.MustCompile(`^(#?\w+) = (:\w+)$`)

// updated is the item after an UpdateItem of SET clauses (the only form the fuzzed handlers use).
func (m *memDB) updated(k tableKey, key item, update string, names map[string]string, values item) (item, error) {
	next := copyItem(key)
	if cur, found := m.items[k]; found {
		next = copyItem(cur)
	}
	clauses, found := strings.CutPrefix(update, "SET ")
	if !found {
		return nil, unsupported("update " + update)
	}
	for _, c := range strings.Split(clauses, ", ") {
		p := setClause.FindStringSubmatch(c)
		if p == nil {
			return nil, unsupported("update clause " + c)
		}
		name, v, err := operands(p[1], p[2], names, values)
		if err != nil {
			return nil, err
		}
		next[name] = v
	}
	_, err := checkItem(next)
	return next, err
}

// check evaluates a write's condition against the stored item; on failure it returns the
// refusal DynamoDB gives, carrying the stored item when the write asked for ALL_OLD.
func (m *memDB) check(k tableKey, cond string, names map[string]string, values item, onFail types.ReturnValuesOnConditionCheckFailure) error {
	old, found := m.items[k]
	ok, err := holds(cond, names, values, old)
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	}
	ccf := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	if found && onFail == types.ReturnValuesOnConditionCheckFailureAllOld {
		ccf.Item = copyItem(old)
	}
	return ccf
}

func (m *memDB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	k, err := keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	if err := m.check(k, aws.ToString(in.ConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ReturnValuesOnConditionCheckFailure); err != nil {
		return nil, err
	}
	delete(m.items, k)
	return &dynamodb.DeleteItemOutput{}, nil
}

var (
	keyEquals  = regexp.MustCompile(`^(#?\w+) = (:\w+)$`)
	keyBetween = regexp.MustCompile(`^(#?\w+) = (:\w+) AND (#?\w+) BETWEEN (:\w+) AND (:\w+)$`)
	keyBegins  = regexp.MustCompile(`^(#?\w+) = (:\w+) AND begins_with\((#?\w+), (:\w+)\)$`)
)

// Query answers every match in one response, newest or oldest first as asked. It ignores Limit:
// the store reads on until it has what it needs, and the fuzz fixtures are far smaller than a page.
func (m *memDB) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	pkName, skName, idx := schema.PartitionKey, schema.SortKey, (*catalog.Index)(nil)
	if in.IndexName != nil {
		for i := range schema.Indexes {
			if schema.Indexes[i].Name == *in.IndexName {
				idx = &schema.Indexes[i]
			}
		}
		if idx == nil {
			return nil, invalid("The table does not have the specified index: %s", *in.IndexName)
		}
		pkName, skName = idx.PartitionKey, idx.SortKey
	}
	names, values := in.ExpressionAttributeNames, in.ExpressionAttributeValues
	cond := aws.ToString(in.KeyConditionExpression)
	var parts []string
	for _, re := range []*regexp.Regexp{keyEquals, keyBetween, keyBegins} {
		if p := re.FindStringSubmatch(cond); p != nil {
			parts = p
		}
	}
	if parts == nil {
		return nil, unsupported("key condition " + cond)
	}
	name, pv, err := operands(parts[1], parts[2], names, values)
	if err != nil {
		return nil, err
	}
	if name != pkName {
		return nil, invalid("Query condition missed key schema element: %s", pkName)
	}
	pk, ok := pv.(*types.AttributeValueMemberS)
	if !ok || pk.Value == "" {
		return nil, invalid("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", pkName)
	}
	inRange := func(string) bool { return true }
	if len(parts) > 3 {
		var bounds []string
		for _, ref := range parts[4:] {
			n, v, err := operands(parts[3], ref, names, values)
			if err != nil {
				return nil, err
			}
			if n != skName {
				return nil, invalid("Query condition missed key schema element: %s", skName)
			}
			s, err := keyValue(skName, v, maxSortKeyBytes)
			if err != nil {
				return nil, err
			}
			bounds = append(bounds, s)
		}
		switch {
		case len(bounds) == 1:
			inRange = func(sk string) bool { return strings.HasPrefix(sk, bounds[0]) }
		case bounds[0] > bounds[1]:
			return nil, invalid("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound")
		default:
			inRange = func(sk string) bool { return sk >= bounds[0] && sk <= bounds[1] }
		}
	}
	filter, err := filterOf(aws.ToString(in.FilterExpression), names, values)
	if err != nil {
		return nil, err
	}
	type hit struct {
		sk string
		k  tableKey
		it item
	}
	var hits []hit
	for k, it := range m.items {
		p, okP := it[pkName].(*types.AttributeValueMemberS)
		s, okS := it[skName].(*types.AttributeValueMemberS)
		if okP && okS && p.Value == pk.Value && inRange(s.Value) && filter(it) {
			hits = append(hits, hit{s.Value, k, it})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].sk != hits[j].sk {
			return hits[i].sk < hits[j].sk
		}
		return hits[i].k.pk+"\x00"+hits[i].k.sk < hits[j].k.pk+"\x00"+hits[j].k.sk
	})
	if in.ScanIndexForward != nil && !*in.ScanIndexForward {
		for i, j := 0, len(hits)-1; i < j; i, j = i+1, j-1 {
			hits[i], hits[j] = hits[j], hits[i]
		}
	}
	out := &dynamodb.QueryOutput{Items: make([]item, 0, len(hits)), Count: int32(len(hits))}
	for _, h := range hits {
		out.Items = append(out.Items, project(h.it, idx))
	}
	return out, nil
}

// project keeps what an index holds: every attribute, or the keys and the included attributes.
func project(it item, idx *catalog.Index) item {
	if idx == nil || idx.Projection == catalog.ProjectAll {
		return copyItem(it)
	}
	out := item{}
	for _, name := range append([]string{schema.PartitionKey, schema.SortKey, idx.PartitionKey, idx.SortKey}, idx.Include...) {
		if v, ok := it[name]; ok {
			out[name] = v
		}
	}
	return out
}

// filterOf reads a filter of equalities joined by AND (the store's E7 filters).
func filterOf(expr string, names map[string]string, values item) (func(item) bool, error) {
	if expr == "" {
		return func(item) bool { return true }, nil
	}
	type eq struct {
		name string
		v    types.AttributeValue
	}
	var eqs []eq
	for _, term := range strings.Split(expr, " AND ") {
		p := setClause.FindStringSubmatch(term)
		if p == nil {
			return nil, unsupported("filter " + term)
		}
		name, v, err := operands(p[1], p[2], names, values)
		if err != nil {
			return nil, err
		}
		eqs = append(eqs, eq{name, v})
	}
	return func(it item) bool {
		for _, e := range eqs {
			if c, ok := compare(it[e.name], e.v); !ok || c != 0 {
				return false
			}
		}
		return true
	}, nil
}

func (m *memDB) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]item{}}
	total := 0
	for table, ka := range in.RequestItems {
		seen := map[tableKey]bool{}
		for _, key := range ka.Keys {
			k, err := keyOf(key)
			if err != nil {
				return nil, err
			}
			if seen[k] {
				return nil, invalid("Provided list of item keys contains duplicates")
			}
			seen[k] = true
			if it, ok := m.items[k]; ok {
				out.Responses[table] = append(out.Responses[table], copyItem(it))
			}
		}
		total += len(ka.Keys)
	}
	if total == 0 || total > maxBatchGetKeys {
		return nil, invalid("Too many items requested for the BatchGetItem call")
	}
	return out, nil
}

func (m *memDB) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	type write struct {
		k   tableKey
		put item
	}
	var writes []write
	seen := map[tableKey]bool{}
	for _, reqs := range in.RequestItems {
		for _, r := range reqs {
			var w write
			var err error
			switch {
			case r.PutRequest != nil:
				w.put = r.PutRequest.Item
				w.k, err = checkItem(w.put)
			case r.DeleteRequest != nil:
				w.k, err = keyOf(r.DeleteRequest.Key)
			}
			if err != nil {
				return nil, err
			}
			if seen[w.k] {
				return nil, invalid("Provided list of item keys contains duplicates")
			}
			seen[w.k] = true
			writes = append(writes, w)
		}
	}
	if len(writes) == 0 || len(writes) > maxBatchWrites {
		return nil, invalid("Too many items requested for the BatchWriteItem call")
	}
	for _, w := range writes {
		if w.put == nil {
			delete(m.items, w.k)
		} else {
			m.items[w.k] = copyItem(w.put)
		}
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

// TransactWriteItems checks every condition first and writes all or nothing.
func (m *memDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if len(in.TransactItems) == 0 || len(in.TransactItems) > maxTransactItems {
		return nil, invalid("Member must have length less than or equal to 100")
	}
	next := m.clone()
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	failed, seen := false, map[tableKey]bool{}
	for i, t := range in.TransactItems {
		reasons[i].Code = aws.String("None")
		var k tableKey
		var err error
		var ok bool
		switch {
		case t.Put != nil:
			if k, err = checkItem(t.Put.Item); err == nil {
				ok, err = holds(aws.ToString(t.Put.ConditionExpression), t.Put.ExpressionAttributeNames, t.Put.ExpressionAttributeValues, m.items[k])
				next.items[k] = copyItem(t.Put.Item)
			}
		case t.ConditionCheck != nil:
			if k, err = keyOf(t.ConditionCheck.Key); err == nil {
				ok, err = holds(aws.ToString(t.ConditionCheck.ConditionExpression), t.ConditionCheck.ExpressionAttributeNames, t.ConditionCheck.ExpressionAttributeValues, m.items[k])
			}
		case t.Delete != nil:
			if k, err = keyOf(t.Delete.Key); err == nil {
				ok, err = holds(aws.ToString(t.Delete.ConditionExpression), t.Delete.ExpressionAttributeNames, t.Delete.ExpressionAttributeValues, m.items[k])
				delete(next.items, k)
			}
		default:
			err = unsupported("a transaction's update")
		}
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, invalid("Transaction request cannot include multiple operations on one item")
		}
		seen[k] = true
		if !ok {
			failed, reasons[i].Code = true, aws.String("ConditionalCheckFailed")
		}
	}
	if failed {
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	m.items = next.items
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

var (
	condExists    = regexp.MustCompile(`^attribute_(not_)?exists\((#?\w+)\)$`)
	condCompare   = regexp.MustCompile(`^(#?\w+) (=|<) (:\w+)$`)
	errNoOperands = invalid("An expression attribute name or value used in an expression is not defined")
)

// holds evaluates a condition of terms joined by AND, then OR (attribute_exists,
// attribute_not_exists, = and <: what the store writes) against the current item (nil if none).
func holds(cond string, names map[string]string, values item, cur item) (bool, error) {
	if cond == "" {
		return true, nil
	}
	for _, alt := range strings.Split(cond, " OR ") {
		all := true
		for _, term := range strings.Split(alt, " AND ") {
			var ok bool
			if p := condExists.FindStringSubmatch(term); p != nil {
				name, err := attrName(p[2], names)
				if err != nil {
					return false, err
				}
				_, present := cur[name]
				ok = present == (p[1] == "")
			} else if p := condCompare.FindStringSubmatch(term); p != nil {
				name, v, err := operands(p[1], p[3], names, values)
				if err != nil {
					return false, err
				}
				c, comparable := compare(cur[name], v)
				ok = comparable && ((p[2] == "=" && c == 0) || (p[2] == "<" && c < 0))
			} else {
				return false, unsupported("condition " + term)
			}
			all = all && ok
		}
		if all {
			return true, nil
		}
	}
	return false, nil
}

func attrName(ref string, names map[string]string) (string, error) {
	if !strings.HasPrefix(ref, "#") {
		return ref, nil
	}
	name, ok := names[ref]
	if !ok {
		return "", errNoOperands
	}
	return name, nil
}

func operands(nameRef, valueRef string, names map[string]string, values item) (string, types.AttributeValue, error) {
	name, err := attrName(nameRef, names)
	if err != nil {
		return "", nil, err
	}
	v, ok := values[valueRef]
	if !ok {
		return "", nil, errNoOperands
	}
	return name, v, nil
}

// compare orders two values of the same type (strings as bytes, numbers as numbers).
func compare(a, b types.AttributeValue) (int, bool) {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		if y, ok := b.(*types.AttributeValueMemberS); ok {
			return strings.Compare(x.Value, y.Value), true
		}
	case *types.AttributeValueMemberN:
		if y, ok := b.(*types.AttributeValueMemberN); ok {
			p, okP := new(big.Float).SetString(x.Value)
			q, okQ := new(big.Float).SetString(y.Value)
			if okP && okQ {
				return p.Cmp(q), true
			}
		}
	case *types.AttributeValueMemberBOOL:
		if y, ok := b.(*types.AttributeValueMemberBOOL); ok && x.Value == y.Value {
			return 0, true
		}
	}
	return 0, false
}

// The table must satisfy the store's port.
var _ store.API = (*memDB)(nil)
