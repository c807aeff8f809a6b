package signin

import (
	"context"
	"testing"
	"time"

	"github.com/portcommunity/cpu/shared/people"
)

// raceStore is a guard store where another writer wins the first n writes (as parallel wrong
// passwords do).
type raceStore struct {
	Store
	guard   people.Guard
	version int
	lose    int
}

func (r *raceStore) SignInGuard(context.Context, string) (people.Guard, int, error) {
	return r.guard, r.version, nil
}

func (r *raceStore) PutSignInGuard(_ context.Context, _ string, g people.Guard, read int) error {
	if r.lose > 0 {
		r.lose--
		// The other writer's failure lands first.
		r.guard.Fail(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC))
		r.version++
		return people.ErrStale
	}
	if read != r.version {
		return people.ErrStale
	}
	r.guard, r.version = g, r.version+1
	return nil
}

// TestParallelFailuresEachCount: a failure whose write lost to another is read again and counted,
// so five failures lock however they interleave.
func TestParallelFailuresEachCount(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	st := &raceStore{lose: 2}
	s := &Service{Store: st}
	for i := 0; i < 3; i++ {
		g, v, _ := st.SignInGuard(context.Background(), "h")
		if _, err := s.fail(context.Background(), "h", g, v, now); err != nil {
			t.Fatal(err)
		}
	}
	// Three failures of ours, two of the other writer's: five, locked.
	if !st.guard.Locked(now) {
		t.Fatalf("not locked after five failures: %+v", st.guard)
	}
}
