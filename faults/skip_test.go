package faults

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
)

// TestStoppedScheduleRecordsTheRestAsSkipped stops the schedule (as an
// abort does) after its first fault is in force: the later fault is never
// requested nor applied, and faults.jsonl says it was skipped and why.
func TestStoppedScheduleRecordsTheRestAsSkipped(t *testing.T) {
	nodes := []*fakeNode{{name: "n1"}, {name: "n2"}, {name: "n3"}}
	rec := &memRecorder{}
	sched := Fixed([]Spec{
		{Kind: "kill", Target: Target{Selector: "all"}, At: 0},
		{Kind: "kill", Target: Target{Selector: "n2"}, At: time.Hour},
	})
	n, err := New(testEnv(nodes, rec), sched)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	for len(n.Active()) == 0 {
		time.Sleep(time.Millisecond) // the test's own timeout bounds this
	}
	cancel(errors.New("the drill aborted: no_primary"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := n.HealAll(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(nodes[1].log, []string{"kill", "start"}) {
		t.Errorf("n2: %v, want one kill (the first fault) and its heal", nodes[1].log)
	}
	var stages []history.FaultEventType
	for _, e := range rec.events {
		if e.Fault != 1 {
			continue
		}
		stages = append(stages, e.Type)
		if e.Type == history.FaultSkipped && e.Reason != "the drill aborted: no_primary" {
			t.Errorf("skipped with reason %q, want the cause the schedule was stopped with", e.Reason)
		}
	}
	if want := []history.FaultEventType{history.FaultScheduled, history.FaultSkipped}; !reflect.DeepEqual(stages, want) {
		t.Errorf("events of the later fault = %v, want %v", stages, want)
	}
	if f := history.FoldFaults(rec.events)[1]; f.Requested != 0 || f.Effective != 0 {
		t.Errorf("the later fault folded as requested or effective: %+v", f)
	}
}
