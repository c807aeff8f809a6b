// Package ratelimit holds the local gateway's counting rules: the usage plan's at most N calls per
// key in each fixed window (contract §2: call 501 within the minute answers 429 with Retry-After),
// and the token bucket of a throttled route.
package ratelimit

import (
	"sync"
	"time"
)

// Window counts calls per key in fixed windows aligned to the first call of each window.
type Window struct {
	Limit  int
	Period time.Duration

	mu   sync.Mutex
	keys map[string]*counter
}

type counter struct {
	start time.Time
	n     int
}

// NewWindow makes a limiter of limit calls per period.
func NewWindow(limit int, period time.Duration) *Window {
	return &Window{Limit: limit, Period: period, keys: map[string]*counter{}}
}

// Allow counts a call of key at now. When the key is over its limit it answers false and how long
// until the window ends (at least one second, as Retry-After counts whole seconds).
func (w *Window) Allow(key string, now time.Time) (bool, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.keys[key]
	if !ok || now.Sub(c.start) >= w.Period {
		if len(w.keys) > 100000 {
			w.sweep(now)
		}
		c = &counter{start: now}
		w.keys[key] = c
	}
	if c.n >= w.Limit {
		wait := c.start.Add(w.Period).Sub(now)
		if wait < time.Second {
			wait = time.Second
		}
		return false, wait.Round(time.Second)
	}
	c.n++
	return true, 0
}

// sweep forgets windows that have ended (bounded memory under many keys).
func (w *Window) sweep(now time.Time) {
	for k, c := range w.keys {
		if now.Sub(c.start) >= w.Period {
			delete(w.keys, k)
		}
	}
}
