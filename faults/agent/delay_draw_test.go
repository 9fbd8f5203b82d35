package agent

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestDelayDraws pins the jitter's range exactly, which the round-trip test
// (TestDelayJitter) can only bound from below on a busy machine: every
// draw is within [delay-jitter, delay+jitter], and draws reach both ends.
func TestDelayDraws(t *testing.T) {
	const delay, jitter = 40 * time.Millisecond, 20 * time.Millisecond
	q := &delayQueue{delay: delay, jitter: jitter, rng: rand.New(rand.NewPCG(7, 7))}
	lo, hi := time.Hour, time.Duration(0)
	for range 10000 {
		d := q.next()
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < delay-jitter || hi > delay+jitter || lo > delay-jitter+time.Millisecond || hi < delay+jitter-time.Millisecond {
		t.Errorf("10000 draws of %v±%v span %v..%v, want within and reaching both ends of %v..%v",
			delay, jitter, lo, hi, delay-jitter, delay+jitter)
	}
	if d := (&delayQueue{delay: delay}).next(); d != delay {
		t.Errorf("without jitter the delay is %v, want %v", d, delay)
	}
}
