package scenarios

import (
	"strings"
	"testing"
	"time"
)

const newKindsBase = `name: t
duration: 30s
cluster: {system: hakv, nodes: 3}
workload: {kind: register}
faults:
`

// TestNewFaultKinds: power-loss, disk-full, corrupt, duplicate, reorder and
// clock parse with their parameters, and their typed values reach the
// faults package unchanged.
func TestNewFaultKinds(t *testing.T) {
	s, err := Parse([]byte(newKindsBase+`  - {kind: power-loss, target: primary, at: 5s, restart_after: 5s}
  - {kind: disk-full, target: primary, at: 5s, duration: 5s, mib: 2}
  - {kind: corrupt, target: primary, at: 5s, duration: 5s, percent: 10}
  - {kind: duplicate, target: primary, at: 5s, duration: 5s, percent: 10}
  - {kind: reorder, target: primary, at: 5s, duration: 5s, percent: 10, delay: 20ms}
`), "new.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Faults[1].Params; p.MiB != 2 {
		t.Errorf("disk-full params %+v", p)
	}
	if p := s.Faults[4].Params; p.Percent != 10 || p.Delay.Std() != 20*time.Millisecond {
		t.Errorf("reorder params %+v", p)
	}
}

// TestClockRefusedOnStaticSystem: hakv's process is a static binary, so a
// clock fault on it is refused, saying why; offsets may be negative.
func TestClockRefusedOnStaticSystem(t *testing.T) {
	_, err := Parse([]byte(newKindsBase+`  - {kind: clock, target: primary, at: 5s, duration: 5s, offset: -30s}
`), "clock.yaml")
	if err == nil || !strings.Contains(err.Error(), "static binary") || !strings.Contains(err.Error(), "faults[0].kind") {
		t.Fatalf("clock on hakv: %v, want a refusal naming the static binary", err)
	}
	_, err = Parse([]byte(newKindsBase+`  - {kind: clock, target: primary, at: 5s, duration: 5s}
`), "clock.yaml")
	if err == nil || !strings.Contains(err.Error(), "clock needs offset") {
		t.Fatalf("clock without offset or rate: %v", err)
	}
}
