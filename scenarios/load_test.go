package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, path string) *Scenario {
	t.Helper()
	s, err := Load(path)
	if err != nil {
		t.Fatalf("load %s:\n%v", path, err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func sec(n float64) Duration { return Duration(n * float64(time.Second)) }

// hakvDefaults are the hakv options a file that gives none runs with.
var hakvDefaults = Options{
	"replication": "sync", "election": "quorum", "failover_timeout": "2s",
	"heartbeat": "200ms", "fsync": "always", "stale_reads": "false", "ship_delay": "0s",
}

func TestDesignExampleLoadsAsWritten(t *testing.T) {
	s := mustLoad(t, "testdata/valid/design-example.yaml")
	want := Default()
	want.Name = "kill-primary"
	want.Description = "The primary is killed under load; a synchronous standby must take over and lose nothing."
	want.Seed = ptr[int64](42)
	want.Duration = sec(40)
	want.Cluster.Options = hakvDefaults
	want.Workload.Rate = 400
	want.Faults = []Fault{{Kind: Kill, Target: Target{Selector: Primary}, At: sec(10), RestartAfter: sec(15)}}
	want.Targets.RTO = ptr(sec(5))
	want.Targets.RPO = ptr(0)
	want.Targets.Availability = ptr(0.90)
	assertSame(t, s, want)
}

// assertSame compares the schema fields of two scenarios.
func assertSame(t *testing.T, got, want *Scenario) {
	t.Helper()
	if !sameValues(got, want) {
		g, _ := got.Dump()
		w, _ := want.Dump()
		t.Errorf("scenario differs:\ngot:\n%s\nwant:\n%s", g, w)
	}
}

func TestMinimalFileGetsEveryDefault(t *testing.T) {
	s := mustLoad(t, "testdata/valid/minimal.yaml")
	want := &Scenario{
		Name:     "minimal", // from the file name
		Duration: sec(30),
		Cluster:  Cluster{System: "hakv", Nodes: 3, Options: hakvDefaults},
		Workload: Workload{Kind: "register", LedgerRatio: 0.2, ReadRatio: 0.4, WriteRatio: 0.4, CASRatio: 0.2,
			Clients: 8, Rate: 200, Keys: 16, Timeout: sec(1)},
		Settle:  sec(5),
		Targets: Targets{Linearizable: true, SettleWindow: sec(1)},
	}
	assertSame(t, s, want)
	if s.Seed != nil {
		t.Errorf("seed = %d, want none until the run", *s.Seed)
	}
}

func TestFullFileKeepsEveryValue(t *testing.T) {
	s := mustLoad(t, "testdata/valid/full.yaml")
	if *s.Seed != -7 || s.Duration != sec(90) || s.Cluster.Nodes != 5 || s.Cluster.Image != "hakv:candidate" {
		t.Errorf("top level: seed %d duration %s nodes %d image %q", *s.Seed, s.Duration, s.Cluster.Nodes, s.Cluster.Image)
	}
	if s.Cluster.Options["stale_reads"] != "true" || s.Cluster.Options["replication"] != "semi-sync" {
		t.Errorf("options = %v", s.Cluster.Options)
	}
	if s.Workload.Rate != 100 || s.Workload.LedgerRatio != 0 || s.Workload.Timeout != sec(0.5) {
		t.Errorf("workload = %+v", s.Workload)
	}
	if len(s.Faults) != 18 {
		t.Fatalf("%d faults, want 18", len(s.Faults))
	}
	wantTargets := []Target{
		3: {Isolate: Minority}, // a partition's plain selector becomes isolate
		4: {Isolate: "n1"},
		5: {Groups: [][]string{{"n1", "n2"}, {"n3", "n4", "n5"}}},
		6: {From: []Selector{Primary}, To: []Selector{"n4", "n5"}},
	}
	for i := 3; i <= 6; i++ {
		if !reflect.DeepEqual(s.Faults[i].Target, wantTargets[i]) {
			t.Errorf("faults[%d].target = %+v, want %+v", i, s.Faults[i].Target, wantTargets[i])
		}
	}
	if f := s.Faults[1]; f.Grace != sec(2) || f.RestartAfter != sec(5) {
		t.Errorf("stop fault = %+v", f)
	}
	if f := s.Faults[9]; f.Rate != 1_500_000 {
		t.Errorf("bandwidth rate = %d, want 1500000", f.Rate)
	}
	n := s.Nemesis
	if n == nil || n.Start != 0 || n.Interval != sec(20) || n.Percent != 20 || n.Grace != Duration(10*time.Second) ||
		!slices.Equal(n.Targets, []Selector{Primary, One, "n5"}) {
		t.Errorf("nemesis = %+v", n)
	}
	tg := s.Targets
	if tg.Linearizable || *tg.RTO != 0 || *tg.RPO != 3 || *tg.RPOWindow != sec(0.25) || *tg.Availability != 0 || tg.SettleWindow != sec(2) {
		t.Errorf("targets = %+v", tg)
	}
	if s.Settle != 0 {
		t.Errorf("settle = %s, want the explicit 0s", s.Settle)
	}
}

func TestAnchorsAndAliasesWork(t *testing.T) {
	s := mustLoad(t, "testdata/valid/anchors.yaml")
	if len(s.Faults) != 2 || !reflect.DeepEqual(s.Faults[0], s.Faults[1]) {
		t.Errorf("faults = %+v", s.Faults)
	}
	if *s.Targets.RPOWindow != sec(5) {
		t.Errorf("rpo_window = %s, want the aliased 5s", *s.Targets.RPOWindow)
	}
}

func TestDumpLoadsBackIdentically(t *testing.T) {
	var all []*Scenario
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, f := range files {
		all = append(all, mustLoad(t, f))
	}
	for _, name := range Builtins() {
		s, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	withSeed := mustLoad(t, "testdata/valid/minimal.yaml")
	withSeed.EnsureSeed()
	all = append(all, withSeed)
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			out, err := s.Dump()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(out, s.Name+".yaml")
			if err != nil {
				t.Fatalf("dump does not load:\n%v\n%s", err, out)
			}
			assertSame(t, back, s)
			again, _ := back.Dump()
			if string(again) != string(out) {
				t.Errorf("second dump differs:\n%s\nfirst:\n%s", again, out)
			}
		})
	}
}

func TestDumpShowsDefaultsAndSeed(t *testing.T) {
	s := mustLoad(t, "testdata/valid/minimal.yaml")
	s.Seed = ptr[int64](99)
	out, err := s.Dump()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"name: minimal", "seed: 99", "duration: 30s", "  system: hakv", "  nodes: 3",
		"  options: {election: quorum, failover_timeout: 2s, fsync: always, heartbeat: 200ms, replication: sync, ship_delay: 0s, stale_reads: false}",
		"  rate: 200/s", "  timeout: 1s", "settle: 5s", "  linearizable: true", "  settle_window: 1s",
	} {
		if !slices.Contains(strings.Split(string(out), "\n"), line) {
			t.Errorf("dump lacks line %q:\n%s", line, out)
		}
	}
}

func TestLoadNamesThePathInErrors(t *testing.T) {
	_, err := Load("testdata/invalid/cluster.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "testdata/invalid/cluster.yaml:4: cluster.system: ") {
		t.Errorf("error = %v", err)
	}
	_, err = Load("testdata/no-such.yaml")
	if !errors.Is(err, os.ErrNotExist) || err.Error() != "testdata/no-such.yaml: read scenario: no such file or directory" {
		t.Errorf("missing file: error = %v", err)
	}
}

// builtinExpectations are the facts fixed about the hakv built-ins. Every
// built-in, of any system, also passes the generic checks below.
var builtinExpectations = map[string]struct {
	kind        FaultKind
	replication string
	agent       bool
}{
	"kill-primary":           {Kill, "sync", false},
	"kill-primary-async":     {Kill, "async", false},
	"pause-primary":          {Pause, "sync", false},
	"kill-standby":           {Kill, "sync", false},
	"partition-primary":      {Partition, "sync", true},
	"split-brain":            {Partition, "async", true},
	"stale-reads":            {Partition, "sync", true},
	"packet-loss":            {FaultKind("loss"), "sync", true},
	"delay-primary":          {FaultKind("delay"), "sync", true},
	"disk-stall-primary":     {FaultKind("disk-stall"), "sync", true},
	"disk-full-primary":      {FaultKind("disk-full"), "sync", true},
	"power-loss-primary":     {FaultKind("power-loss"), "sync", true},
	"power-loss-fsync-never": {FaultKind("power-loss"), "sync", true},
	// No fixed fault: a random nemesis (kind "").
	"random-faults": {"", "sync", true},
}

func TestBuiltinsAllLoadAndFitTheMachine(t *testing.T) {
	names := Builtins()
	for name := range builtinExpectations {
		if !slices.Contains(names, name) {
			t.Errorf("built-in %s is missing", name)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case s.Name != name:
				t.Errorf("name = %q", s.Name)
			case s.Duration < sec(20) || s.Duration > sec(60):
				t.Errorf("duration = %s, want 20s..60s: built-ins are short drills", s.Duration)
			case len(s.Faults) == 0 && s.Nemesis == nil:
				t.Errorf("no fault and no nemesis")
			case s.Description == "" || s.Seed != nil:
				t.Errorf("description %q, seed %v", s.Description, s.Seed)
			case !strings.Contains(s.Description, "Expect"):
				t.Errorf("description does not state the expected verdict: %q", s.Description)
			}
			exp, ok := builtinExpectations[name]
			if !ok {
				return
			}
			switch {
			case s.Cluster.System != "hakv" || s.Cluster.Nodes != 3:
				t.Errorf("cluster = %+v", s.Cluster)
			case s.Cluster.Options["failover_timeout"] != "2s" || s.Cluster.Options["heartbeat"] != "200ms":
				t.Errorf("options = %v", s.Cluster.Options)
			case s.Cluster.Options["replication"] != exp.replication:
				t.Errorf("replication = %s, want %s", s.Cluster.Options["replication"], exp.replication)
			case exp.kind == "" && (len(s.Faults) != 0 || s.Nemesis == nil):
				t.Errorf("faults = %+v, nemesis %+v: want a nemesis only", s.Faults, s.Nemesis)
			case exp.kind != "" && (len(s.Faults) != 1 || s.Faults[0].Kind != exp.kind):
				t.Errorf("faults = %+v", s.Faults)
			case (len(s.AgentKinds()) > 0) != exp.agent:
				t.Errorf("AgentKinds = %v, want agent=%v", s.AgentKinds(), exp.agent)
			}
		})
	}
}

func TestBuiltinSpecifics(t *testing.T) {
	get := func(name string) *Scenario {
		s, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	kp := get("kill-primary")
	if f := kp.Faults[0]; f.Target.Selector != Primary || f.At != sec(10) || f.RestartAfter != sec(10) {
		t.Errorf("kill-primary fault = %+v", f)
	}
	if tg := kp.Targets; !tg.Linearizable || *tg.RTO != sec(5) || *tg.RPO != 0 || *tg.Availability != 0.8 {
		t.Errorf("kill-primary targets = %+v", tg)
	}
	if *get("kill-primary-async").Targets.RPO != 0 {
		t.Error("kill-primary-async must demand rpo 0, so that it fails")
	}
	if ks := get("kill-standby"); ks.Faults[0].Target.Selector != Standby || *ks.Targets.RTO != sec(1) {
		t.Errorf("kill-standby = %+v, rto %s", ks.Faults[0], *ks.Targets.RTO)
	}
	if get("split-brain").Cluster.Options["election"] != "unilateral" {
		t.Error("split-brain needs unilateral election")
	}
	if get("stale-reads").Cluster.Options["stale_reads"] != "true" {
		t.Error("stale-reads needs stale_reads true")
	}
	if f := get("packet-loss").Faults[0]; f.Percent != 30 || f.Duration != sec(15) || f.Target.Selector != Primary {
		t.Errorf("packet-loss fault = %+v", f)
	}
	if f := get("delay-primary").Faults[0]; f.Delay != sec(0.2) || f.Jitter != sec(0.05) {
		t.Errorf("delay-primary fault = %+v", f)
	}
	if f := get("disk-stall-primary").Faults[0]; f.Duration != sec(8) {
		t.Errorf("disk-stall-primary fault = %+v", f)
	}
}

func TestBuiltinUnknownNameListsBuiltins(t *testing.T) {
	_, err := Builtin("../testdata/valid/minimal")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "kill-primary, kill-primary-async") {
		t.Errorf("error = %v", err)
	}
}

func TestResolve(t *testing.T) {
	s, err := Resolve("pause-primary")
	if err != nil || s.Name != "pause-primary" {
		t.Fatalf("built-in: %v, %v", s, err)
	}
	s, err = Resolve("testdata/valid/minimal.yaml")
	if err != nil || s.Name != "minimal" {
		t.Fatalf("file: %v, %v", s, err)
	}
	_, err = Resolve("testdata/invalid/cluster.yaml")
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("bad file: error = %v, want ErrInvalid", err)
	}
	for _, arg := range []string{"kill-leader", "nowhere/kill.yaml"} {
		_, err = Resolve(arg)
		want := fmt.Sprintf("no such scenario %q: not a built-in (%s) and not a file", arg, strings.Join(Builtins(), ", "))
		if !errors.Is(err, ErrNotFound) || err == nil || err.Error() != want {
			t.Errorf("Resolve(%q) error = %v\nwant %s", arg, err, want)
		}
	}
}
