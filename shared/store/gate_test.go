package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/portcommunity/cpu/shared/gate"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
)

// queryCounter counts the Queries a store makes and the items they return.
type queryCounter struct {
	store.API
	queries, items atomic.Int64
}

func (q *queryCounter) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := q.API.Query(ctx, in, opts...)
	q.queries.Add(1)
	if out != nil {
		q.items.Add(int64(len(out.Items)))
	}
	return out, err
}

// TestGateReadsOneQueryWhateverTheHistory: a container with over two thousand history items
// (outcomes, hops, gate validations, an archived release) is judged from one Query that returns only its
// current state: the visit, the active release and its PIN guard.
func TestGateReadsOneQueryWhateverTheHistory(t *testing.T) {
	t.Parallel()
	s, db, table := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	const port, c = "BEANR", "CSQU3054383"
	var ids int
	newID := func() string { ids++; return fmt.Sprintf("rel-%d", ids) }

	// An archived release (with its hops), then an active one blocked and unblocked 300 times: 600
	// outcomes in the partition.
	cmd := func(ref string, a release.Action, mods ...func(*release.Command)) release.Command {
		from, to := now.Add(-time.Hour), now.Add(24*time.Hour)
		no := false
		x := release.Command{PublicReferenceID: ref, Requester: "NXT200000001", CarrierID: "NXT200000001", Action: a,
			Request: release.Request{ReleaseIdentification: "R-1", EquipmentNumber: c, BillOfLadingNumbers: []string{"BL1"}, PortLoCode: port, TerminalCode: "01700",
				ActionType: a, IsCarrierHaulage: &no, ReleaseDateTimeUtc: &from, ExpirationDateTimeUtc: &to}}
		for _, m := range mods {
			m(&x)
		}
		return x
	}
	apply := func(cur *release.Release, x release.Command, res release.Resolved) *release.Release {
		t.Helper()
		d := release.Apply(cur, x, res, now, newID)
		if err := s.Save(ctx, cur, d); err != nil {
			t.Fatal(err)
		}
		if d.Next != nil {
			return d.Next
		}
		return cur
	}
	res := release.Resolved{TerminalOperatorID: "NXT200000003"}
	old := apply(nil, cmd("r0", release.ActRelease), res)
	apply(old, cmd("d0", release.ActDelete), res)
	cur := apply(nil, cmd("r1", release.ActRelease), res)
	for i := 0; i < 300; i++ {
		cur = apply(cur, cmd(fmt.Sprintf("b%d", i), release.ActBlock), res)
		cur = apply(cur, cmd(fmt.Sprintf("u%d", i), release.ActUnblock), res)
	}
	// The visit, and 1,000 gate validations with a guard.
	l, err := s.LoadContainer(ctx, port, c, "none", 0)
	if err != nil {
		t.Fatal(err)
	}
	in := release.Command{PublicReferenceID: "dis", Requester: "NXT200000003", Action: release.Action(release.InputDischarge),
		Request: release.Request{PortLoCode: port, EquipmentNumber: c, TerminalCode: "01700"}, Input: &release.InputArgs{Input: release.InputDischarge, EventAt: now.Add(-time.Minute)}}
	if err := s.Save(ctx, nil, release.ApplyInput(l.Visit, l.Releases, in, release.Resolved{}, now)); err != nil {
		t.Fatal(err)
	}
	guard := &gate.GuardWrite{Key: release.GuardKey("x", 1), Next: release.PinGuard{Version: 1, Failures: []time.Time{now}}}
	for i := 0; i < 1000; i++ {
		rec := gate.Record{ID: fmt.Sprint(i), PortLoCode: port, EquipmentNumber: c, At: now.Add(time.Duration(i) * time.Millisecond), Reasons: []string{}}
		g := guard
		if i > 0 {
			g = nil
		}
		if err := s.RecordValidation(ctx, rec, g); err != nil {
			t.Fatal(err)
		}
	}
	// A guard written at a version another writer moved on from is refused.
	if err := s.RecordValidation(ctx, gate.Record{ID: "late", PortLoCode: port, EquipmentNumber: c, At: now}, guard); err != gate.ErrGuardChanged {
		t.Fatalf("stale guard: %v", err)
	}

	counter := &queryCounter{API: db}
	st, err := store.New(counter, table).ContainerState(ctx, port, c)
	if err != nil {
		t.Fatal(err)
	}
	if counter.queries.Load() != 1 || counter.items.Load() != 3 {
		t.Fatalf("gate read: %d queries, %d items; want 1 and 3", counter.queries.Load(), counter.items.Load())
	}
	if len(st.Releases) != 1 || st.Releases[0].ReleaseID != cur.ReleaseID || st.Visit.Lights.Discharge.Value != release.ValueYes ||
		st.Releases[0].Lights.Discharge.Value != release.ValueYes || !st.Guards[guard.Key].Failures[0].Equal(now) {
		t.Fatalf("state: %+v", st)
	}
	recs, err := s.Validations(ctx, port, c)
	if err != nil || len(recs) != 1000 {
		t.Fatalf("validations: %d %v", len(recs), err)
	}
}
