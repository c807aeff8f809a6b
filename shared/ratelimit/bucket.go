package ratelimit

import (
	"sync"
	"time"
)

// Bucket is a token bucket, the rule API Gateway throttles a method with: it holds at most Burst
// tokens, refilled at Rate a second; each call takes one, and a call that finds none is refused.
type Bucket struct {
	Rate  float64
	Burst int

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewBucket makes a full bucket.
func NewBucket(rate float64, burst int) *Bucket {
	return &Bucket{Rate: rate, Burst: burst, tokens: float64(burst)}
}

// Allow takes a token at now. When there is none it answers false and how long until there is
// one, rounded up to whole seconds (at least one), as Retry-After counts them.
func (b *Bucket) Allow(now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(float64(b.Burst), b.tokens+now.Sub(b.last).Seconds()*b.Rate)
	}
	if now.After(b.last) {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / b.Rate * float64(time.Second))
	return false, max(time.Second, (wait+time.Second-1)/time.Second*time.Second)
}
