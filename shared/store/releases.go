package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/registry"
	"github.com/portcommunity/cpu/shared/release"
)

func releasePK(port, container string) string { return "REL#" + port + "#" + container }
func activeSK(carrier, blKey string) string   { return "ACTIVE#" + carrier + "#" + blKey }
func archivedSK(releaseID string) string      { return "ARCHIVED#" + releaseID }
func outcomeSK(ref string, item int) string   { return fmt.Sprintf("OUT#%s#%03d", ref, item) }
func hopPrefix(releaseID string) string       { return "HOP#" + releaseID + "#" }
func hopSK(releaseID string, seq int) string  { return fmt.Sprintf("%s%06d", hopPrefix(releaseID), seq) }
func ridPK(carrier, rid string) string        { return "RID#" + carrier + "#" + rid }
func expiryPK(t time.Time) string             { return "EXP#" + t.UTC().Format("2006-01-02") }

// The container's current state sorts under the prefix "ACTIVE": the visit (sk ACTIVE), the PIN
// guards of its assignments (ACTIVE!PIN#…) and its active releases (ACTIVE#…), so that one Query
// reads all of it and nothing of the history (ARCHIVED#, HOP#, OUT#, GATE#).
const (
	skVisit      = "ACTIVE"
	activePrefix = "ACTIVE"
)

// Load reads, in one strongly consistent BatchGetItem, the active release a command names, the
// container's visit and whether the command's outcome is already recorded.
func (s *Store) Load(ctx context.Context, ref release.Ref, publicRef string, item int) (release.Loaded, error) {
	if ref.CarrierID == "" {
		return s.loadByContainer(ctx, ref, publicRef, item)
	}
	pk := releasePK(ref.PortLoCode, ref.EquipmentNumber)
	keys := []map[string]types.AttributeValue{key(pk, activeSK(ref.CarrierID, ref.BillOfLadingKey)), key(pk, outcomeSK(publicRef, item)), key(pk, skVisit)}
	l := release.Loaded{Visit: release.NewVisit(ref.PortLoCode, ref.EquipmentNumber)}
	err := s.batchGet(ctx, keys, true, func(it map[string]types.AttributeValue) error {
		switch sk := sVal(it[attrSK]); {
		case strings.HasPrefix(sk, "OUT#"):
			l.Done = true
		case sk == skVisit:
			return attributevalue.UnmarshalMapWithOptions(it, &l.Visit, jsonTagsDecode)
		case strings.HasPrefix(sk, "ACTIVE#"):
			var r release.Release
			if err := attributevalue.UnmarshalMapWithOptions(it, &r, jsonTagsDecode); err != nil {
				return err
			}
			l.Release = &r
		}
		return nil
	})
	return l, err
}

// loadByContainer reads the container's current state (one strongly consistent Query on the
// ACTIVE prefix: archived releases and outcomes are not read), takes the release with the
// command's B/Ls and releaseIdentification, and reads whether the outcome is recorded.
func (s *Store) loadByContainer(ctx context.Context, ref release.Ref, publicRef string, item int) (release.Loaded, error) {
	l, err := s.LoadContainer(ctx, ref.PortLoCode, ref.EquipmentNumber, publicRef, item)
	for i, r := range l.Releases {
		if r.BillOfLadingKey == ref.BillOfLadingKey && r.Data.ReleaseIdentification == ref.ReleaseIdentification {
			l.Release = &l.Releases[i]
		}
	}
	return l, err
}

// LoadContainer reads the container's visit and all its active releases (one strongly consistent
// Query) and whether the command's outcome is recorded (one GetItem): what a terminal's or an
// authority's input is applied to.
func (s *Store) LoadContainer(ctx context.Context, port, container, publicRef string, item int) (release.Loaded, error) {
	st, err := s.containerState(ctx, port, container, true)
	if err != nil {
		return release.Loaded{}, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(releasePK(port, container), outcomeSK(publicRef, item)),
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("pk")})
	if err != nil {
		return release.Loaded{}, err
	}
	return release.Loaded{Visit: st.Visit, Releases: st.Releases, Done: out.Item != nil}, nil
}

// containerState reads everything under the ACTIVE prefix of a container in one Query: the visit,
// the active releases and the PIN guards.
func (s *Store) containerState(ctx context.Context, port, container string, consistent bool) (release.ContainerState, error) {
	st := release.ContainerState{Visit: release.NewVisit(port, container), Guards: map[string]release.PinGuard{}}
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :a)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(releasePK(port, container)), ":a": str(activePrefix)},
		ConsistentRead:            aws.Bool(consistent),
	}, func(it map[string]types.AttributeValue) error {
		switch sk := sVal(it[attrSK]); {
		case sk == skVisit:
			return attributevalue.UnmarshalMapWithOptions(it, &st.Visit, jsonTagsDecode)
		case strings.HasPrefix(sk, pinGuardPrefix):
			var g release.PinGuard
			if err := attributevalue.UnmarshalMapWithOptions(it, &g, jsonTagsDecode); err != nil {
				return err
			}
			st.Guards[strings.TrimPrefix(sk, pinGuardPrefix)] = g
		case strings.HasPrefix(sk, "ACTIVE#"):
			var r release.Release
			if err := attributevalue.UnmarshalMapWithOptions(it, &r, jsonTagsDecode); err != nil {
				return err
			}
			st.Releases = append(st.Releases, r)
		}
		return nil
	})
	return st, err
}

// Save stores a decision in one transaction: the release (conditioned on the version it was read
// at), the releaseIdentification guard, and the outcome (conditioned on not existing, so a command
// applies once however often it is delivered).
func (s *Store) Save(ctx context.Context, cur *release.Release, d release.Decision) error {
	var items []types.TransactWriteItem
	var labels []error // what a failed condition of each item means
	add := func(it types.TransactWriteItem, meaning error) {
		items = append(items, it)
		labels = append(labels, meaning)
	}
	writes := d.Also
	if d.Next != nil {
		writes = append([]release.ReleaseWrite{{Cur: cur, Next: d.Next, Archive: d.Archive, Hops: d.Hops}}, writes...)
	}
	for _, w := range writes {
		if err := s.releaseWrites(w, add); err != nil {
			return err
		}
	}
	if v := d.Visit; v != nil {
		item, err := attributevalue.MarshalMapWithOptions(v, jsonTags)
		if err != nil {
			return err
		}
		item[attrPK], item[attrSK], item[attrItemType] = str(releasePK(v.PortLoCode, v.EquipmentNumber)), str(skVisit), str("Visit")
		put := &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
		if v.Version > 1 {
			put.ConditionExpression = aws.String("version = :v")
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(v.Version - 1)}}
		}
		add(types.TransactWriteItem{Put: put}, release.ErrConflict)
	}
	for _, o := range append([]release.Outcome{d.Outcome}, d.Extra...) {
		out, err := attributevalue.MarshalMapWithOptions(o, jsonTags)
		if err != nil {
			return err
		}
		out[attrPK], out[attrSK], out[attrItemType] = str(releasePK(o.PortLoCode, o.EquipmentNumber)), str(outcomeSK(o.PublicReferenceID, o.Item)), str("Outcome")
		add(s.putNew(out), release.ErrAlreadyApplied)
	}
	if len(items) > maxTransactItems {
		return fmt.Errorf("%w: the decision writes %d items, more than a transaction's %d", release.ErrTooLarge, len(items), maxTransactItems)
	}
	for _, it := range items {
		if it.Put != nil {
			if err := checkSize("item "+sVal(it.Put.Item[attrSK]), it.Put.Item); err != nil {
				return err
			}
		}
	}

	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	if s.capacity != nil {
		in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	}
	res, err := s.db.TransactWriteItems(ctx, in)
	if err == nil && s.capacity != nil {
		consumed := 0.0
		for _, c := range res.ConsumedCapacity {
			consumed += aws.ToFloat64(c.CapacityUnits)
		}
		s.capacity(consumed, MinimumTransactWCU(items))
	}
	if err = permanent(err); errors.Is(err, release.ErrRejected) || errors.Is(err, release.ErrTooLarge) {
		return err
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		// The outcome's condition decides first: if it is recorded, nothing else matters.
		for i, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" && labels[i] == release.ErrAlreadyApplied {
				return release.ErrAlreadyApplied
			}
		}
		for i, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return labels[i]
			}
		}
		return fmt.Errorf("%w: %v", release.ErrConflict, err) // e.g. TransactionConflict with a concurrent writer
	}
	return err
}

// maxTransactItems is DynamoDB's limit of items in one TransactWriteItems.
const maxTransactItems = 100

// releaseWrites adds the items of one release's change: the release (conditioned on the version it
// was read at) or its archived copy, the releaseIdentification guard, its new hops, and the
// parties' lists.
func (s *Store) releaseWrites(w release.ReleaseWrite, add func(types.TransactWriteItem, error)) error {
	cur, next := w.Cur, w.Next
	pk := releasePK(next.PortLoCode, next.EquipmentNumber)
	active := key(pk, activeSK(next.CarrierID, next.BillOfLadingKey))
	switch {
	case w.Archive:
		add(types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: active,
			ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: versionOf(cur)}}, release.ErrConflict)
		item, err := s.releaseItem(next, pk, archivedSK(next.ReleaseID), false)
		if err != nil {
			return err
		}
		add(types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item}}, release.ErrConflict)
		add(types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(ridPK(next.CarrierID, cur.Data.ReleaseIdentification), "RID")}}, release.ErrConflict)
	default:
		item, err := s.releaseItem(next, pk, activeSK(next.CarrierID, next.BillOfLadingKey), true)
		if err != nil {
			return err
		}
		put := &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
		if cur != nil {
			put.ConditionExpression, put.ExpressionAttributeValues = aws.String("version = :v"), versionOf(cur)
		}
		add(types.TransactWriteItem{Put: put}, release.ErrConflict)
		if cur == nil || cur.Data.ReleaseIdentification != next.Data.ReleaseIdentification {
			if cur != nil {
				add(types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(ridPK(next.CarrierID, cur.Data.ReleaseIdentification), "RID")}}, release.ErrConflict)
			}
			guard := key(ridPK(next.CarrierID, next.Data.ReleaseIdentification), "RID")
			guard["releaseId"], guard[attrItemType] = str(next.ReleaseID), str("ReleaseIdentification")
			add(s.putNew(guard), release.ErrReleaseIDTaken)
		}
	}
	// A replaced, withdrawn or ended assignment takes its PIN guard with it: the gate's one Query
	// then reads the current assignment's guard only.
	if cur != nil && cur.Right.Assignment != nil {
		if a := next.Right.Assignment; w.Archive || a == nil || a.Seq != cur.Right.Assignment.Seq {
			add(types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table,
				Key: key(pk, pinGuardPrefix+release.GuardKey(cur.ReleaseID, cur.Right.Assignment.Seq))}}, release.ErrConflict)
		}
	}
	for _, h := range w.Hops {
		item, err := attributevalue.MarshalMapWithOptions(h, jsonTags)
		if err != nil {
			return err
		}
		item[attrPK], item[attrSK], item[attrItemType] = str(pk), str(hopSK(next.ReleaseID, h.Seq)), str("Hop")
		add(s.putNew(item), release.ErrConflict)
	}
	ms, err := s.membershipItems(cur, next, w.Archive)
	if err != nil {
		return err
	}
	for _, m := range ms {
		add(m, release.ErrConflict)
	}
	return nil
}

func versionOf(r *release.Release) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(r.Version)}}
}

// releaseItem marshals a release; an active one that can still expire is indexed by its expiry
// day so the expiry sweep finds it with a Query.
func (s *Store) releaseItem(r *release.Release, pk, sk string, active bool) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(r, jsonTags)
	if err != nil {
		return nil, err
	}
	item[attrPK], item[attrSK], item[attrItemType] = str(pk), str(sk), str("Release")
	if active && r.Light != release.LightExpired && r.Data.ExpirationDateTimeUtc != nil {
		exp := r.Data.ExpirationDateTimeUtc.UTC()
		item[attrGSI1PK] = str(expiryPK(exp))
		item[attrGSI1SK] = str(exp.Format(time.RFC3339) + "#" + r.ReleaseID)
	}
	return item, nil
}

// DueForExpiry finds active releases whose expiration passed in the last lookback (one Query per
// day bucket, never a Scan).
func (s *Store) DueForExpiry(ctx context.Context, now time.Time, lookback time.Duration) ([]release.Due, error) {
	var out []release.Due
	for day := now.Add(-lookback).UTC().Truncate(24 * time.Hour); !day.After(now); day = day.Add(24 * time.Hour) {
		err := s.query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			IndexName:              aws.String(gsi1),
			KeyConditionExpression: aws.String("gsi1pk = :p AND gsi1sk <= :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":p": str(expiryPK(day)), ":now": str(now.UTC().Format(time.RFC3339) + "#\uffff"),
			},
		}, func(it map[string]types.AttributeValue) error {
			var r release.Release
			if err := attributevalue.UnmarshalMapWithOptions(it, &r, jsonTagsDecode); err != nil {
				return err
			}
			out = append(out, release.Due{ReleaseID: r.ReleaseID, Version: r.Version, PortLoCode: r.PortLoCode, EquipmentNumber: r.EquipmentNumber, CarrierID: r.CarrierID, BillOfLadingNumbers: r.Data.BillOfLadingNumbers})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// History returns every outcome recorded for a container, oldest first: the audit trail that
// outlives the 168-hour notifications.
func (s *Store) History(ctx context.Context, port, container string) ([]release.Outcome, error) {
	var out []release.Outcome
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :o)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(releasePK(port, container)), ":o": str("OUT#"),
		},
		ConsistentRead: aws.Bool(true),
	}, func(it map[string]types.AttributeValue) error {
		var o release.Outcome
		if err := attributevalue.UnmarshalMapWithOptions(it, &o, jsonTagsDecode); err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	sortOutcomes(out)
	return out, err
}

// Hops returns the newest hops of a release's chain of custody, oldest first (one Query, newest
// first, bounded by newest).
func (s *Store) Hops(ctx context.Context, port, container, releaseID string, newest int) ([]release.Hop, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :h)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(releasePK(port, container)), ":h": str(hopPrefix(releaseID)),
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(newest)),
	})
	if err != nil {
		return nil, err
	}
	hops := make([]release.Hop, len(out.Items))
	for i, it := range out.Items {
		if err := attributevalue.UnmarshalMapWithOptions(it, &hops[len(hops)-1-i], jsonTagsDecode); err != nil {
			return nil, err
		}
	}
	return hops, nil
}

// TerminalOperator returns the entity operating a terminal code ("" when unknown).
func (s *Store) TerminalOperator(ctx context.Context, code string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(terminalPK(code), "TERM")})
	if err != nil || out.Item == nil {
		return "", err
	}
	return sVal(out.Item["entityId"]), nil
}

// ResolveParty returns the registered entities a party reference names (contract §1: it must name
// exactly one).
func (s *Store) ResolveParty(ctx context.Context, ref release.PartyRef) ([]string, error) {
	kind := map[string]registry.Identifier{
		"NxtEntityId": registry.ByNxtEntityID, "Tin": registry.ByVAT, "Eori": registry.ByEORI,
		"Duns": registry.ByDUNS, "Apcs": registry.ByAPCS, "Scac": registry.BySCAC,
	}[ref.IdentificationType]
	if kind == "" {
		return nil, nil
	}
	sums, err := s.ByIdentifier(ctx, kind, ref.IdentificationCode)
	ids := make([]string, 0, len(sums))
	seen := map[string]bool{}
	for _, x := range sums {
		if !seen[x.NxtEntityID] {
			seen[x.NxtEntityID] = true
			ids = append(ids, x.NxtEntityID)
		}
	}
	return ids, err
}

func sVal(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func sortOutcomes(out []release.Outcome) {
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
}
