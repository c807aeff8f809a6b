package identity

import (
	"errors"
	"time"
)

// The slow-down of failed client authentications (review finding #5). The token endpoint is public:
// whoever knows a client id may try secrets. Failures are counted per (client id, source IP) in a
// fixed window that starts with the first failure; after FailuresAllowed failures each further
// failure blocks the pair for twice as long as the one before. Keyed per source IP so that an
// attacker elsewhere cannot lock the client's own software out.
const (
	// FailureWindow is the length of the fixed window; the record expires at its end.
	FailureWindow = 15 * time.Minute
	// FailuresAllowed is how many failures a pair may make in a window before it is slowed down.
	FailuresAllowed = 5
	// firstBlock is how long the pair is blocked after failure number FailuresAllowed; each further
	// failure doubles it, up to maxBlock (and never past the window's end).
	firstBlock = time.Second
	maxBlock   = 15 * time.Minute
)

// AuthFailures is the record of one (client id, source IP) pair. The zero value means no failures.
// Records are kept as read, even after their window ended, so that a write can be conditioned on
// the record it replaces.
type AuthFailures struct {
	Count int
	// WindowEnd is the first failure plus FailureWindow; after it the record counts for nothing.
	WindowEnd time.Time
	// BlockedUntil: attempts before this time are refused without looking at the secret.
	BlockedUntil time.Time
}

// Live tells whether the record's window is still open at now.
func (f AuthFailures) Live(now time.Time) bool { return f.Count > 0 && now.Before(f.WindowEnd) }

// Blocked tells whether an attempt at now is refused unchecked, and how long the block lasts.
func (f AuthFailures) Blocked(now time.Time) (time.Duration, bool) {
	if !f.Live(now) || !now.Before(f.BlockedUntil) {
		return 0, false
	}
	return f.BlockedUntil.Sub(now), true
}

// After is the record once one more failure happened at now: a new window when the last one ended;
// from failure FailuresAllowed on, a block of 1 s, 2 s, 4 s … capped at 15 minutes and at the
// window's end.
func (f AuthFailures) After(now time.Time) AuthFailures {
	if !f.Live(now) {
		f = AuthFailures{WindowEnd: now.Add(FailureWindow)}
	}
	f.Count++
	if f.Count >= FailuresAllowed {
		block := maxBlock
		if n := f.Count - FailuresAllowed; n < 20 { // 2^20 s is far past the cap; no overflow
			block = min(firstBlock<<n, maxBlock)
		}
		f.BlockedUntil = now.Add(block)
		if f.BlockedUntil.After(f.WindowEnd) {
			f.BlockedUntil = f.WindowEnd
		}
	}
	return f
}

// ErrChanged is what storage answers when a record is no longer the one a write was conditioned on
// (a concurrent failure of the same pair was counted first): read it again and retry.
var ErrChanged = errors.New("record changed concurrently")
