package ratelimit

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	w := NewWindow(500, time.Minute)
	start := time.Unix(1000, 0)
	for i := 0; i < 500; i++ {
		if ok, _ := w.Allow("k", start.Add(time.Duration(i)*100*time.Millisecond)); !ok {
			t.Fatalf("call %d refused", i+1)
		}
	}
	ok, wait := w.Allow("k", start.Add(50*time.Second))
	if ok || wait != 10*time.Second {
		t.Fatalf("call 501: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := w.Allow("other", start.Add(50*time.Second)); !ok {
		t.Fatal("keys are not independent")
	}
	if ok, _ := w.Allow("k", start.Add(60*time.Second)); !ok {
		t.Fatal("new window refused")
	}
	if ok, wait := w.Allow("k2", start); !ok || wait != 0 {
		t.Fatal("fresh key")
	}
}

// TestBucket: a full bucket takes a burst at once, then calls at the refill rate; a refused call
// is told when a token will be there; idle time refills up to the burst and no further.
func TestBucket(t *testing.T) {
	b := NewBucket(25, 50)
	start := time.Unix(1000, 0)
	for i := 0; i < 50; i++ {
		if ok, _ := b.Allow(start); !ok {
			t.Fatalf("call %d of the burst refused", i+1)
		}
	}
	ok, wait := b.Allow(start)
	if ok || wait != time.Second {
		t.Fatalf("call 51 at once: ok=%v wait=%v", ok, wait)
	}
	// 25 a second: one token every 40 ms.
	if ok, _ := b.Allow(start.Add(39 * time.Millisecond)); ok {
		t.Fatal("a token before its time")
	}
	if ok, _ := b.Allow(start.Add(40 * time.Millisecond)); !ok {
		t.Fatal("the refilled token refused")
	}
	// Sustained: 25 calls in the next second pass, the 26th does not.
	at := start.Add(40 * time.Millisecond)
	for i := 1; i <= 25; i++ {
		if ok, _ := b.Allow(at.Add(time.Duration(i) * 40 * time.Millisecond)); !ok {
			t.Fatalf("sustained call %d refused", i)
		}
	}
	if ok, _ := b.Allow(at.Add(time.Second)); ok {
		t.Fatal("more than the rate passed")
	}
	// A long idle time refills to the burst, not beyond.
	later := start.Add(time.Hour)
	n := 0
	for {
		if ok, _ := b.Allow(later); !ok {
			break
		}
		n++
	}
	if n != 50 {
		t.Fatalf("after idling, %d calls at once, want 50", n)
	}
	// A slow refill: Retry-After rounds up to the next whole second.
	slow := NewBucket(0.25, 1)
	slow.Allow(start)
	if ok, wait := slow.Allow(start.Add(time.Second)); ok || wait != 3*time.Second {
		t.Fatalf("slow bucket: ok=%v wait=%v", ok, wait)
	}
}
