package agent_test

import (
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/hadrill/hadrill/internal/testsupport"
)

const faketimeLib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

// childClock reads the wall clock the child last wrote, minus the real
// time, once the child has written a line after since.
func childClock(t *testing.T, path string, since time.Time) time.Duration {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		fi, err := os.Stat(path)
		if err == nil && fi.ModTime().After(since) {
			b, err := os.ReadFile(path)
			now := time.Now()
			secs, perr := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
			if err == nil && perr == nil {
				return time.Duration((secs - float64(now.UnixNano())/1e9) * float64(time.Second))
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the child wrote no clock reading to %s", path)
	return 0
}

// TestClock runs a dynamically linked child (a shell that writes date's
// output every 50 ms) under the agent's libfaketime preload, shifts its
// clock by an hour, and reads the shift in what the child itself wrote;
// after the heal the child's clock is back to the real one.
func TestClock(t *testing.T) {
	if _, err := os.Stat(faketimeLib); err != nil {
		testsupport.Missing(t, "libfaketime is not installed (apt-get install libfaketime): %v", err)
	}
	out := filepath.Join(t.TempDir(), "clock")
	script := "while true; do date +%s.%N > " + out + ".tmp; mv " + out + ".tmp " + out + "; sleep 0.05; done"
	p := startAgent(t, newNetns(t), agentOpts{flags: []string{"--faketime", "auto"}, child: []string{"/bin/sh", "-c", script}})
	before := childClock(t, out, time.Now())
	applied := p.apply(t, agent.Fault{ID: "c", Kind: kind.Clock, Params: agent.Params{Params: kind.Params{Offset: kind.Offset(time.Hour)}}})
	during := childClock(t, out, time.Unix(0, applied.EffectiveNS))
	healed := p.heal(t, "c")
	after := childClock(t, out, time.Unix(0, healed.HealedNS))
	t.Logf("child's clock minus real: before %v, during %v, after %v; agent observed %.0f ms",
		before, during, after, healed.Measured.ClockOffsetMS)
	near := func(d, want time.Duration) bool { return d > want-2*time.Second && d < want+2*time.Second }
	if !near(before, 0) || !near(during, time.Hour) || !near(after, 0) {
		t.Errorf("child's clock offset before %v, during %v, after %v; want 0, 1h, 0 (± 2s)", before, during, after)
	}
	if !near(time.Duration(healed.Measured.ClockOffsetMS*float64(time.Millisecond)), time.Hour) {
		t.Errorf("agent observed %.0f ms, want about 3600000", healed.Measured.ClockOffsetMS)
	}
}

// TestClockRefusesStatic refuses a clock fault on a statically linked
// process (this test binary, built with CGO_ENABLED=0), saying why.
func TestClockRefusesStatic(t *testing.T) {
	if _, err := os.Stat(faketimeLib); err != nil {
		testsupport.Missing(t, "libfaketime is not installed: %v", err)
	}
	if !staticBinary(t, os.Args[0]) {
		testsupport.Missing(t, "this test binary is dynamically linked: build it with CGO_ENABLED=0, as make test does")
	}
	p := startAgent(t, newNetns(t), agentOpts{flags: []string{"--faketime", "auto"},
		child: []string{os.Args[0], childArg, "serve", "127.0.0.1:9102"}})
	_, err := p.client.Apply(t.Context(), agent.Fault{ID: "c", Kind: kind.Clock, Params: agent.Params{Params: kind.Params{Offset: kind.Offset(time.Minute)}}})
	if !errors.Is(err, agent.ErrUnavailable) || !strings.Contains(err.Error(), "statically linked") {
		t.Errorf("clock on a static process: %v, want unavailable, statically linked", err)
	}
}

// staticBinary reports whether the program at path has no ELF interpreter,
// which is what the agent checks before it refuses a clock fault.
func staticBinary(t *testing.T, path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}
