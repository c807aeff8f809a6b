package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/localstack/testenv"
	"github.com/portcommunity/cpu/shared/registry"
	"github.com/portcommunity/cpu/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func mk(id, name, vat string, roles ...entity.Role) entity.Entity {
	e := entity.Entity{
		NxtEntityID: id, Name: name, VAT: vat, EORI: vat, Roles: roles,
		Addresses: []entity.Address{{AddressTypeCode: "1", City: "Antwerpen", Country: "BE"}},
	}
	e.Normalize()
	return e
}

// beVAT builds a valid Belgian VAT number from 8 digits.
func beVAT(first8 int) string {
	return fmt.Sprintf("BE%08d%02d", first8, 97-first8%97)
}

func newStore(t *testing.T) (*store.Store, *dynamodb.Client, string) {
	db := testenv.Backends().DynamoDB()
	table := testenv.Table(t)
	return store.New(db, table), db, table
}

func register(t *testing.T, s *store.Store, es ...entity.Entity) {
	t.Helper()
	for _, e := range es {
		if err := e.Validate(); err != nil {
			t.Fatalf("fixture %s invalid: %v", e.NxtEntityID, err)
		}
		if err := s.Register(context.Background(), e, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func countItems(t *testing.T, db *dynamodb.Client, table, pk string) int {
	out, err := db.Query(context.Background(), &dynamodb.QueryInput{
		TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: pk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

func TestRegisterRefusesDuplicatesAndWritesNothing(t *testing.T) {
	s, db, table := newStore(t)
	ctx := context.Background()
	register(t, s, mk("NXT100000001", "Scheldt Shipping Agency", beVAT(4031700), entity.ShippingAgent))

	cases := []struct {
		name  string
		e     entity.Entity
		field string
	}{
		{"same id", mk("NXT100000001", "Other Name", beVAT(4031701), entity.ReleaseParty), "nxtEntityId"},
		{"same VAT", mk("NXT100000002", "Other Name", beVAT(4031700), entity.ReleaseParty), "vat"},
		{"same name, other case", mk("NXT100000003", "scheldt  SHIPPING agency", beVAT(4031702), entity.ReleaseParty), "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			issued, err := localIssued(c.e.NxtEntityID)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Register(ctx, c.e, &issued)
			var dup *store.ErrDuplicate
			if !errors.As(err, &dup) || dup.Field != c.field {
				t.Fatalf("want duplicate %s, got %v", c.field, err)
			}
			// Nothing half written: no index item, no credential.
			if n := countItems(t, db, table, "REG#VAT#"+c.e.VAT); c.field != "vat" && n != 0 {
				t.Errorf("registry item written for refused entity: %d", n)
			}
			if _, err := s.Client(ctx, issued.Client.ClientID); !errors.Is(err, identity.ErrUnknown) {
				t.Errorf("client of refused entity was written: %v", err)
			}
		})
	}
}

// secrets hashes the client secrets of the tests (a fresh key per run).
var secrets = func() *identity.SecretHasher {
	h, err := identity.GenerateSecretHasher()
	if err != nil {
		panic(err)
	}
	return h
}()

func localIssued(entityID string) (identity.Issued, error) {
	var out identity.Issued
	var err error
	now := time.Now()
	if out.Client, out.ClientSecret, err = identity.NewClient(secrets, entityID, "", "", now); err != nil {
		return out, err
	}
	if out.Key, out.SubscriptionKey, err = identity.NewSubscriptionKey(entityID, "cpu", "test", "", now); err != nil {
		return out, err
	}
	out.Ingestion, err = identity.NewIngestionID(entityID, "test", "", now)
	return out, err
}

func TestCredentialsRoundTrip(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	e := mk("NXT100000010", "Kempen Forwarding", beVAT(4031710), entity.ReleaseParty)
	issued, err := localIssued(e.NxtEntityID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Register(ctx, e, &issued); err != nil {
		t.Fatal(err)
	}
	c, err := s.Client(ctx, issued.Client.ClientID)
	if err != nil || !secrets.Check(&c, issued.ClientSecret) || secrets.Check(&c, "wrong-secret-wrong-secret") {
		t.Fatalf("client round trip: %v", err)
	}
	k, err := s.SubscriptionKey(ctx, identity.HashKey(issued.SubscriptionKey))
	if err != nil || k.EntityID != e.NxtEntityID || k.Environment != "test" {
		t.Fatalf("key round trip: %+v %v", k, err)
	}
	in, err := s.IngestionID(ctx, issued.Ingestion.ID)
	if err != nil || in.EntityID != e.NxtEntityID {
		t.Fatalf("ingestion round trip: %+v %v", in, err)
	}
	// A second set of credentials for an existing entity; none for an unknown one.
	more, _ := localIssued(e.NxtEntityID)
	if err := s.Issue(ctx, more); err != nil {
		t.Fatal(err)
	}
	orphan, _ := localIssued("NXT199999999")
	if err := s.Issue(ctx, orphan); err == nil {
		t.Fatal("credentials issued for an unknown entity")
	}
	cs, ks, is, err := s.Credentials(ctx, e.NxtEntityID)
	if err != nil || len(cs) != 2 || len(ks) != 2 || len(is) != 2 {
		t.Fatalf("list credentials: %d %d %d %v", len(cs), len(ks), len(is), err)
	}
}

func TestRegistrySearchOnDynamoDB(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	register(t, s,
		mk("NXT100000001", "Scheldt Shipping Agency", beVAT(4031700), entity.ShippingAgent),
		mk("NXT100000002", "Noordzee Shipping Lines", beVAT(4031701), entity.ShippingAgent),
		mk("NXT100000003", "Deurganck Terminal", beVAT(4031702), entity.ReleaseParty),
		mk("NXT100000004", "Kempen Forwarding", beVAT(4031703), entity.ReleaseParty),
		mk("NXT100000005", "Rhine Barge Lines", beVAT(4031704), entity.TransportOperator),
	)
	str := func(s string) *string { return &s }
	cases := []struct {
		name  string
		q     registry.Query
		want  []string
		total int
	}{
		{"partial name, any case", registry.Query{EntityName: str("SHIPPING")}, []string{"NXT100000002", "NXT100000001"}, 2},
		{"name in the middle", registry.Query{EntityName: str("barge")}, []string{"NXT100000005"}, 1},
		{"one letter at the end", registry.Query{EntityName: str("y")}, []string{"NXT100000001"}, 1},
		{"two letters at the end", registry.Query{EntityName: str("al")}, []string{"NXT100000003"}, 1},
		{"trigram that is not a substring", registry.Query{EntityName: str("shipping agency x")}, nil, 0},
		{"name and VAT combined with AND", registry.Query{EntityName: str("lines"), VAT: str(beVAT(4031704))}, []string{"NXT100000005"}, 1},
		{"AND that excludes", registry.Query{EntityName: str("shipping"), VAT: str(beVAT(4031704))}, nil, 0},
		{"by id, lower case", registry.Query{NxtEntityID: str("nxt100000004")}, []string{"NXT100000004"}, 1},
		{"by EORI", registry.Query{EORI: str(beVAT(4031702))}, []string{"NXT100000003"}, 1},
		{"unknown id", registry.Query{NxtEntityID: str("NXT999999999")}, nil, 0},
		{"paging: second page", registry.Query{EntityName: str("e"), Page: 2, PageSize: 2}, []string{"NXT100000002", "NXT100000005"}, 5},
		{"paging: past the end", registry.Query{EntityName: str("e"), Page: 9, PageSize: 2}, nil, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.q.Page == 0 {
				c.q.Page, c.q.PageSize = 1, 25
			}
			page, err := registry.Search(ctx, s, c.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range page.Items {
				got = append(got, e.NxtEntityID)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) || page.TotalRows != c.total {
				t.Fatalf("got %v (total %d), want %v (total %d)", got, page.TotalRows, c.want, c.total)
			}
			if wantPages := (c.total + c.q.PageSize - 1) / c.q.PageSize; page.TotalPages != wantPages {
				t.Fatalf("totalPages %d, want %d", page.TotalPages, wantPages)
			}
		})
	}
}

// TestAuthFailuresOnDynamoDB: the slow-down's records round-trip, a write conditioned on a record
// that changed meanwhile is refused with identity.ErrChanged, the item expires with its window, and
// a client id of any length (it comes from whoever calls) makes a bounded key.
func TestAuthFailuresOnDynamoDB(t *testing.T) {
	s, db, table := newStore(t)
	ctx := context.Background()
	now := time.UnixMilli(time.Now().UnixMilli())
	const id, ip = "local-client-1", "198.51.100.7"
	rec, err := s.AuthFailures(ctx, id, ip)
	if err != nil || rec != (identity.AuthFailures{}) {
		t.Fatalf("no record: %+v %v", rec, err)
	}
	first := rec.After(now)
	if err := s.SaveAuthFailures(ctx, id, ip, rec, first); err != nil {
		t.Fatal(err)
	}
	// Another instance that read "no record" too is refused; it reads again and counts on.
	if err := s.SaveAuthFailures(ctx, id, ip, rec, first); !errors.Is(err, identity.ErrChanged) {
		t.Fatalf("stale write: %v", err)
	}
	got, err := s.AuthFailures(ctx, id, ip)
	if err != nil || got.Count != 1 || !got.WindowEnd.Equal(first.WindowEnd) {
		t.Fatalf("read back: %+v %v", got, err)
	}
	next := got
	for i := 0; i < identity.FailuresAllowed-1; i++ {
		n := next.After(now)
		if err := s.SaveAuthFailures(ctx, id, ip, next, n); err != nil {
			t.Fatal(err)
		}
		next = n
	}
	got, _ = s.AuthFailures(ctx, id, ip)
	if wait, blocked := got.Blocked(now); !blocked || wait != time.Second || got.Count != identity.FailuresAllowed {
		t.Fatalf("after five failures: %+v", got)
	}
	// The item expires (TTL, epoch seconds) with its window; another address has its own record.
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "AUTHFAIL#" + sha256Hex(id)}, "sk": &types.AttributeValueMemberS{Value: "IP#" + ip},
	}})
	if err != nil || out.Item == nil {
		t.Fatalf("raw item: %v", err)
	}
	if ttl := out.Item["expiresAt"].(*types.AttributeValueMemberN).Value; ttl != fmt.Sprint((first.WindowEnd.UnixMilli()+999)/1000) {
		t.Fatalf("expiresAt %s, window ends %v", ttl, first.WindowEnd)
	}
	if other, _ := s.AuthFailures(ctx, id, "198.51.100.8"); other.Count != 0 {
		t.Fatalf("another address shares the record: %+v", other)
	}
	if err := s.ClearAuthFailures(ctx, id, ip); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AuthFailures(ctx, id, ip); got.Count != 0 {
		t.Fatalf("cleared record: %+v", got)
	}
	long := strings.Repeat("x", 5000) // longer than DynamoDB's 2,048-byte partition key
	if err := s.SaveAuthFailures(ctx, long, ip, identity.AuthFailures{}, identity.AuthFailures{}.After(now)); err != nil {
		t.Fatalf("long client id: %v", err)
	}
	if got, err := s.AuthFailures(ctx, long, ip); err != nil || got.Count != 1 {
		t.Fatalf("long client id read back: %+v %v", got, err)
	}
	// The token endpoint then looks the client up by the id as sent (found while writing
	// FuzzToken: DynamoDB refused the key, a 500); E1 its ingestion id from the path.
	if _, err := s.Client(ctx, long); !errors.Is(err, identity.ErrUnknown) {
		t.Fatalf("client by a long id: %v", err)
	}
	if _, err := s.IngestionID(ctx, long); !errors.Is(err, identity.ErrUnknown) {
		t.Fatalf("ingestion id by a long id: %v", err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestAttemptsAreCounted: a failed first attempt counts once; a redelivery counts before it is
// tried, and its failure only records the error.
func TestAttemptsAreCounted(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	if n, err := s.Failed(ctx, "m1", "throttled", false); err != nil || n != 1 {
		t.Fatalf("first failure: %d %v", n, err)
	}
	for want := 2; want <= 3; want++ {
		wantLast := map[int]string{2: "throttled", 3: "still throttled"}[want]
		n, last, err := s.Begin(ctx, "m1")
		if err != nil || n != want || last != wantLast {
			t.Fatalf("attempt %d: %d %q %v", want, n, last, err)
		}
		if n, err := s.Failed(ctx, "m1", "still throttled", true); err != nil || n != want {
			t.Fatalf("failure of attempt %d: %d %v", want, n, err)
		}
	}
	if n, err := s.Failed(ctx, "m2", strings.Repeat("x", 5000), false); err != nil || n != 1 {
		t.Fatalf("another message: %d %v", n, err)
	}
}
