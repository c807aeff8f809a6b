package store

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/portcommunity/cpu/shared/release"
)

// MaxItemBytes is DynamoDB's item size limit: 400 KB, attribute names and values counted as
// ItemSize counts them. Every write is checked against it before it is attempted, so that an
// oversized item is a typed, permanent error (release.ErrTooLarge) and not a ValidationException
// found after the fact.
const MaxItemBytes = 400 * 1024

// DynamoDB's key limits: a partition key value of at most 2,048 bytes, a sort key value of at most
// 1,024. A read by a longer key is refused (a ValidationException), not answered "not found".
const (
	MaxPartitionKeyBytes = 2048
	MaxSortKeyBytes      = 1024
)

// checkSize refuses an item over the limit, naming what it is.
func checkSize(what string, item map[string]types.AttributeValue) error {
	if n := ItemSize(item); n > MaxItemBytes {
		return fmt.Errorf("%w: %s is %d bytes, the limit is %d", release.ErrTooLarge, what, n, MaxItemBytes)
	}
	return nil
}

// permanent maps DynamoDB's refusals that no retry can cure to the domain's typed errors; every
// other error (throttling, a network failure, an outage) is returned as it is and retried.
func permanent(err error) error {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			switch code := deref(r.Code); code {
			case "ValidationError":
				return fmt.Errorf("%w: %v", release.ErrRejected, err)
			case "ItemCollectionSizeLimitExceeded":
				return fmt.Errorf("%w: %v", release.ErrTooLarge, err)
			}
		}
		return err
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ValidationException" {
		return fmt.Errorf("%w: %v", release.ErrRejected, err)
	}
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
