package faults

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/hadrill/hadrill/history"
)

func TestTargetResolve(t *testing.T) {
	all := []string{"n3", "n1", "n2"}
	cases := []struct {
		name    string
		target  Target
		primary string
		want    []string
		wantErr bool
	}{
		{"primary", Target{Selector: "primary"}, "n2", []string{"n2"}, false},
		{"primary unknown", Target{Selector: "primary"}, "", nil, true},
		{"standbys", Target{Selector: "standbys"}, "n2", []string{"n1", "n3"}, false},
		{"standby never the primary", Target{Selector: "standby"}, "n2", nil, false},
		{"all", Target{Selector: "all"}, "n2", []string{"n1", "n2", "n3"}, false},
		{"minority holds the primary", Target{Selector: "minority"}, "n3", []string{"n3"}, false},
		{"named", Target{Selector: "n1"}, "n2", []string{"n1"}, false},
		{"named unknown", Target{Selector: "n9"}, "n2", nil, true},
		{"isolate primary", Target{Isolate: "primary"}, "n1", []string{"n1"}, false},
		{"bad word", Target{Selector: "leader"}, "n1", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Resolve(c.target, all, c.primary, Rand(1, "x"))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			if c.name == "standby never the primary" {
				if len(got) != 1 || got[0] == "n2" {
					t.Fatalf("standby = %v, want one node other than the primary", got)
				}
				return
			}
			if !c.wantErr && !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestSides: a partition target resolves into its sides: the isolated
// nodes and the rest, the groups as written, or one way the From side then
// the To side, selectors and node names mixed; "no primary" stays
// cluster.ErrNoPrimary, which the nemesis waits out.
func TestSides(t *testing.T) {
	all := []string{"n1", "n2", "n3"}
	cases := []struct {
		name   string
		target Target
		want   [][]string
	}{
		{"isolate primary", Target{Isolate: "primary"}, [][]string{{"n2"}, {"n1", "n3"}}},
		{"isolate a node", Target{Isolate: "n3"}, [][]string{{"n3"}, {"n1", "n2"}}},
		{"groups", Target{Groups: [][]string{{"n1"}, {"n2", "n3"}}}, [][]string{{"n1"}, {"n2", "n3"}}},
		{"one way", Target{From: []kind.Selector{"primary"}, To: []kind.Selector{"n1", "n3", "n1"}}, [][]string{{"n2"}, {"n1", "n3"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Sides(c.target, all, "n2", Rand(1, "x"))
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Sides = %v, %v; want %v", got, err, c.want)
			}
		})
	}
	_, err := Sides(Target{From: []kind.Selector{"n1"}, To: []kind.Selector{"primary"}}, all, "", Rand(1, "x"))
	if !errors.Is(err, cluster.ErrNoPrimary) || !strings.HasPrefix(err.Error(), "partition to: target primary: ") {
		t.Fatalf("no primary: %v, want partition to: ... wrapping cluster.ErrNoPrimary", err)
	}
}

func TestMajorityIsMoreThanHalf(t *testing.T) {
	all := []string{"n1", "n2", "n3", "n4", "n5"}
	got, err := Resolve(Target{Selector: "majority"}, all, "n4", Rand(7, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("majority of 5 = %v, want 3 nodes", got)
	}
}

func TestOneIsSeeded(t *testing.T) {
	all := []string{"n1", "n2", "n3", "n4", "n5"}
	seen := map[string]bool{}
	for seed := int64(0); seed < 50; seed++ {
		a, _ := Resolve(Target{Selector: "one"}, all, "", Rand(seed, "t"))
		b, _ := Resolve(Target{Selector: "one"}, all, "", Rand(seed, "t"))
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: %v then %v", seed, a, b)
		}
		seen[a[0]] = true
	}
	if len(seen) < 3 {
		t.Fatalf("50 seeds picked only %v: not random", seen)
	}
}

func TestRandomScheduleIsDeterministic(t *testing.T) {
	r := RandomSpec{
		Kinds:    []string{"kill", "pause"},
		Targets:  []Target{{Selector: "primary"}, {Selector: "one"}},
		Start:    5 * time.Second,
		Interval: 10 * time.Second,
		Duration: 6 * time.Second,
	}
	a, _ := json.Marshal(Random(r, 60*time.Second, 42))
	b, _ := json.Marshal(Random(r, 60*time.Second, 42))
	c, _ := json.Marshal(Random(r, 60*time.Second, 43))
	if string(a) != string(b) {
		t.Fatal("same seed gave different schedules")
	}
	if string(a) == string(c) {
		t.Fatal("different seeds gave the same schedule")
	}
	s := Random(r, 60*time.Second, 42)
	if len(s) != 5 {
		t.Fatalf("got %d faults over 60s every 10s from 5s, want 5", len(s))
	}
	for i, p := range s {
		if p.At+p.Duration > 60*time.Second {
			t.Errorf("fault %d ends at %v, after the run", i, p.At+p.Duration)
		}
	}
}

// fakeNode records what was done to it. Unit tests only: the real drills
// act on containers.
type fakeNode struct {
	name string
	mu   sync.Mutex
	log  []string
	// fail makes the named action fail this many more times.
	fail map[string]int
}

func (f *fakeNode) Name() string { return f.name }
func (f *fakeNode) do(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[s] > 0 {
		f.fail[s]--
		return errors.New(s + " refused")
	}
	f.log = append(f.log, s)
	return nil
}
func (f *fakeNode) Kill(context.Context) error                { return f.do("kill") }
func (f *fakeNode) Stop(context.Context, time.Duration) error { return f.do("stop") }
func (f *fakeNode) Pause(context.Context) error               { return f.do("pause") }
func (f *fakeNode) Unpause(context.Context) error             { return f.do("unpause") }
func (f *fakeNode) Start(context.Context) error               { return f.do("start") }

type memRecorder struct {
	mu     sync.Mutex
	events []history.FaultEvent
}

func (m *memRecorder) Append(v any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, v.(history.FaultEvent))
	return nil
}

func testEnv(nodes []*fakeNode, rec *memRecorder) Env {
	start := time.Now()
	var ns []Node
	for _, n := range nodes {
		ns = append(ns, n)
	}
	return Env{
		Nodes:   ns,
		Primary: func(context.Context) (string, error) { return "n1", nil },
		Clock:   func() int64 { return int64(time.Since(start)) },
		Record:  rec,
		Seed:    1,
	}
}

func TestNemesisHealsWindowedFaultsAndRecordsStages(t *testing.T) {
	nodes := []*fakeNode{{name: "n1"}, {name: "n2"}, {name: "n3"}}
	rec := &memRecorder{}
	sched := Fixed([]Spec{
		{Kind: "pause", Target: Target{Selector: "primary"}, At: 10 * time.Millisecond, Duration: 30 * time.Millisecond},
		{Kind: "kill", Target: Target{Selector: "n3"}, At: 20 * time.Millisecond},
	})
	n, err := New(testEnv(nodes, rec), sched)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := n.Active(); len(got) != 1 || got[0].String() != "kill(n3)" || got[0].Kind != "kill" {
		t.Fatalf("active after run = %v, want the unwindowed kill only", got)
	}
	if err := n.HealAll(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(nodes[0].log, []string{"pause", "unpause"}) || !reflect.DeepEqual(nodes[2].log, []string{"kill", "start"}) {
		t.Fatalf("n1 %v, n3 %v", nodes[0].log, nodes[2].log)
	}
	folded := history.FoldFaults(rec.events)
	if len(folded) != 2 {
		t.Fatalf("folded %d faults", len(folded))
	}
	p := folded[0]
	if p.Requested == 0 || p.Effective < p.Requested || p.Healed-p.Requested < int64(30*time.Millisecond) {
		t.Fatalf("pause stages out of order or window too short: %+v", p)
	}
}

func TestNemesisHealsOnInterrupt(t *testing.T) {
	nodes := []*fakeNode{{name: "n1"}, {name: "n2"}, {name: "n3"}}
	rec := &memRecorder{}
	sched := Fixed([]Spec{{Kind: "pause", Target: Target{Selector: "all"}, At: 0, Duration: time.Hour}})
	n, _ := New(testEnv(nodes, rec), sched)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(n.Active()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if err := n.HealAll(); err != nil {
		t.Fatal(err)
	}
	for _, nd := range nodes {
		if !reflect.DeepEqual(nd.log, []string{"pause", "unpause"}) {
			t.Fatalf("%s: %v, want pause then unpause", nd.name, nd.log)
		}
	}
}

func TestNemesisRejectsUnknownKind(t *testing.T) {
	_, err := New(Env{}, Fixed([]Spec{{Kind: "meteor"}}))
	if err == nil {
		t.Fatal("unknown kind accepted")
	}
}

// TestSameSeedWritesTheSameScheduleLines runs a random nemesis twice with
// one seed: the scheduled lines that open faults.jsonl are byte for byte the
// same, and a third run with another seed differs.
func TestSameSeedWritesTheSameScheduleLines(t *testing.T) {
	r := RandomSpec{
		Kinds:    []string{"kill", "pause"},
		Targets:  []Target{{Selector: "primary"}, {Selector: "one"}},
		Interval: 20 * time.Millisecond,
		Duration: 5 * time.Millisecond,
	}
	lines := func(seed int64) string {
		nodes := []*fakeNode{{name: "n1"}, {name: "n2"}, {name: "n3"}}
		rec := &memRecorder{}
		n, err := New(testEnv(nodes, rec), Fixed(Random(r, 100*time.Millisecond, seed)))
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		var b []byte
		for _, e := range rec.events {
			if e.Type == history.FaultScheduled {
				line, _ := json.Marshal(e)
				b = append(append(b, line...), '\n')
			}
		}
		return string(b)
	}
	a, b, c := lines(42), lines(42), lines(43)
	if a == "" || a != b {
		t.Fatalf("same seed, different schedule lines:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatal("different seeds wrote the same schedule lines")
	}
}

// TestNemesisWaitsForAPrimary starts a fault on "primary" during an
// election: it is injected on the new primary once one is known, rather
// than failing.
func TestNemesisWaitsForAPrimary(t *testing.T) {
	nodes := []*fakeNode{{name: "n1"}, {name: "n2"}, {name: "n3"}}
	rec := &memRecorder{}
	env := testEnv(nodes, rec)
	elected := time.Now().Add(300 * time.Millisecond)
	env.Primary = func(context.Context) (string, error) {
		if time.Now().Before(elected) {
			return "", errors.New("election under way")
		}
		return "n2", nil
	}
	n, _ := New(env, Fixed([]Spec{{Kind: "pause", Target: Target{Selector: "primary"}, Duration: 10 * time.Millisecond}}))
	if err := n.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !reflect.DeepEqual(nodes[1].log, []string{"pause", "unpause"}) {
		t.Fatalf("n2 %v: want the pause on the primary elected meanwhile", nodes[1].log)
	}
}

// TestFailedHealIsRetriedAndNotRecordedAsHealed: an unpause that fails
// leaves the fault in force, records the error and no healed event, and the
// final HealAll retries it until it is healed.
func TestFailedHealIsRetriedAndNotRecordedAsHealed(t *testing.T) {
	nodes := []*fakeNode{{name: "n1", fail: map[string]int{"unpause": 1}}, {name: "n2"}, {name: "n3"}}
	rec := &memRecorder{}
	n, _ := New(testEnv(nodes, rec), Fixed([]Spec{{Kind: "pause", Target: Target{Selector: "n1"}, Duration: 10 * time.Millisecond}}))
	if err := n.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f := history.FoldFaults(rec.events)[0]; f.Healed != 0 || len(f.Errors) != 1 || len(n.Active()) != 1 {
		t.Fatalf("after a failed heal: %+v, active %v; want no healed time, one error, still active", f, n.Active())
	}
	if err := n.HealAll(); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if f := history.FoldFaults(rec.events)[0]; f.Healed == 0 || len(n.Active()) != 0 {
		t.Fatalf("after the retry: %+v, active %v; want healed", f, n.Active())
	}
	if !reflect.DeepEqual(nodes[0].log, []string{"pause", "unpause"}) {
		t.Fatalf("n1 %v", nodes[0].log)
	}
}

// TestFailedInjectionIsRecordedAndHealsWhatItDid: a pause of all nodes that
// fails on the second node records the error, and healing unpauses the one
// node it did pause.
func TestFailedInjectionIsRecordedAndHealsWhatItDid(t *testing.T) {
	nodes := []*fakeNode{{name: "n1"}, {name: "n2", fail: map[string]int{"pause": 1}}, {name: "n3"}}
	rec := &memRecorder{}
	n, _ := New(testEnv(nodes, rec), Fixed([]Spec{{Kind: "pause", Target: Target{Selector: "all"}}}))
	if err := n.Run(context.Background()); err == nil {
		t.Fatal("run hid the injection error")
	}
	if err := n.HealAll(); err != nil {
		t.Fatal(err)
	}
	f := history.FoldFaults(rec.events)[0]
	if f.Effective != 0 || len(f.Errors) != 1 {
		t.Fatalf("fault %+v: want no effective time and the error recorded", f)
	}
	if !reflect.DeepEqual(nodes[0].log, []string{"pause", "unpause"}) || len(nodes[1].log) != 0 || len(nodes[2].log) != 0 {
		t.Fatalf("n1 %v n2 %v n3 %v: want only n1 paused and unpaused", nodes[0].log, nodes[1].log, nodes[2].log)
	}
}

// TestInjectorsMatchDeclarations: every declared kind has an injector, and
// every injector but the tests' own is for a declared kind.
func TestInjectorsMatchDeclarations(t *testing.T) {
	for _, d := range kind.Decls() {
		if _, err := Lookup(string(d.Name)); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
	}
	for _, k := range Kinds() {
		if _, ok := kind.Lookup(kind.Name(k)); !ok && !strings.HasPrefix(k, "test-") {
			t.Errorf("injector for %s, which is not a declared kind", k)
		}
	}
}

// reportingInjector is a test kind whose node says the fault took effect
// reportLead before the injection ran, and keeps that time in reportedAt.
type reportingInjector struct{}

const reportLead = 500 * time.Millisecond

var reportedAt atomic.Pointer[time.Time]

func (reportingInjector) Kind() string { return "test-reporting" }

func (reportingInjector) Inject(_ context.Context, h Hit) (Heal, error) {
	at := time.Now().Add(-reportLead)
	reportedAt.Store(&at)
	for _, n := range h.Nodes {
		h.Effective(n.Name(), at)
	}
	return func(context.Context) (map[string]float64, error) { return nil, nil }, nil
}

// TestEffectiveTimeIsTheNodesOwn places a node's reported effective time on
// the run's clock: at the time the node gave, reportLead before the
// injection returned, not when it did.
//
// Compared with the time the node gave, not with the request: a busy
// machine may start the injection late, so the node's time can come after
// the request. The run's clock reads the node's time as its age when the
// report arrives, so the recorded time is never earlier than the node's
// and later only by the moment between two clock readings; taken from the
// injection's return it would be at least reportLead later.
func TestEffectiveTimeIsTheNodesOwn(t *testing.T) {
	Register(reportingInjector{})
	nodes := []*fakeNode{{name: "n1"}, {name: "n2"}, {name: "n3"}}
	rec := &memRecorder{}
	env := testEnv(nodes, rec)
	start := time.Now()
	env.Clock = func() int64 { return int64(time.Since(start)) }
	n, _ := New(env, Fixed([]Spec{{Kind: "test-reporting", Target: Target{Selector: "n1"}, At: reportLead + 100*time.Millisecond}}))
	if err := n.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := history.FoldFaults(rec.events)[0]
	want := reportedAt.Load().Sub(start)
	if got := time.Duration(f.Effective); got < want || got >= want+reportLead {
		t.Fatalf("effective at %v on the run's clock, want the node's own %v (not its return, %v or more later)", got, want, reportLead)
	}
}
