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
