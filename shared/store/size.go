package store

import (
	"math"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ItemSize is an item's size as DynamoDB bills it: attribute names plus values (strings and binary
// by length, numbers about one byte per two digits plus one, 3 bytes of overhead per list or map
// and 1 per element).
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return (len(x.Value)+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range x.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// MinimumTransactWCU is the least write capacity a transaction of these items can cost: two units
// per started KB of every item written or deleted (transactions cost twice a plain write).
func MinimumTransactWCU(items []types.TransactWriteItem) float64 {
	total := 0.0
	for _, it := range items {
		switch {
		case it.Put != nil:
			total += 2 * math.Ceil(float64(ItemSize(it.Put.Item))/1024)
		case it.Delete != nil, it.Update != nil:
			total += 2
		}
	}
	return total
}
