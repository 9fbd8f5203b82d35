package scenarios

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func builtin(t *testing.T, name string) *Scenario {
	t.Helper()
	s, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSetOverridesAnyLeaf(t *testing.T) {
	cases := []struct {
		scenario, set string
		check         func(*Scenario) bool
	}{
		{"kill-primary", "cluster.image=hakv:candidate", func(s *Scenario) bool { return s.Cluster.Image == "hakv:candidate" }},
		{"kill-primary", "workload.rate=100/s", func(s *Scenario) bool { return s.Workload.Rate == 100 }},
		{"kill-primary", "workload.rate=50", func(s *Scenario) bool { return s.Workload.Rate == 50 }},
		{"kill-primary", "cluster.options.replication=async", func(s *Scenario) bool {
			return s.Cluster.Options["replication"] == "async" && s.Cluster.Options["election"] == "quorum"
		}},
		{"kill-primary", "faults[0].at=12s", func(s *Scenario) bool { return s.Faults[0].At == sec(12) }},
		{"kill-primary", "seed=7", func(s *Scenario) bool { return s.Seed != nil && *s.Seed == 7 }},
		{"kill-primary", "targets.rto=10s", func(s *Scenario) bool { return *s.Targets.RTO == sec(10) }},
		{"kill-primary", "targets.rpo_window=0s", func(s *Scenario) bool { return *s.Targets.RPOWindow == 0 }},
		{"kill-primary", "targets.linearizable=false", func(s *Scenario) bool { return !s.Targets.Linearizable }},
		{"kill-primary", "description=", func(s *Scenario) bool { return s.Description == "" }},
		{"kill-primary", "name = kp2", func(s *Scenario) bool { return s.Name == "kp2" }},
		{"kill-primary", "duration=1m", func(s *Scenario) bool { return s.Duration == sec(60) }},
		{"kill-primary", "nemesis.kinds=[kill, pause]", func(s *Scenario) bool {
			n := s.Nemesis
			return n != nil && slices.Equal(n.Kinds, []FaultKind{Kill, Pause}) && n.Interval == sec(10) && n.Start == sec(5)
		}},
		{"partition-primary", "faults[0].target={groups: [[n1], [n2, n3]]}", func(s *Scenario) bool {
			return reflect.DeepEqual(s.Faults[0].Target.Groups, [][]string{{"n1"}, {"n2", "n3"}})
		}},
		{"partition-primary", "faults[0].target=n2", func(s *Scenario) bool { return s.Faults[0].Target.Isolate == "n2" }},
	}
	for _, tc := range cases {
		t.Run(tc.set, func(t *testing.T) {
			s := builtin(t, tc.scenario)
			if err := Set(s, tc.set); err != nil {
				t.Fatal(err)
			}
			if !tc.check(s) {
				out, _ := s.Dump()
				t.Errorf("override not applied:\n%s", out)
			}
		})
	}
}

func TestSetErrorsAreChecksOfTheFile(t *testing.T) {
	cases := []struct{ set, want string }{
		{"cluster.image", "--set: cluster.image: want path=value, like cluster.image=hakv:dev"},
		{"=x", "--set: want path=value, like cluster.image=hakv:dev"},
		{"faults[x].at=1s", "--set: faults[x].at: invalid path (want field names joined by dots, like workload.rate or faults[0].at)"},
		{"workload..rate=1", "--set: workload..rate: invalid path (want field names joined by dots, like workload.rate or faults[0].at)"},
		{"workload.colour=red", "--set: workload.colour: unknown field"},
		{"workload.rate=fast", `--set: workload.rate: invalid rate "fast" (want operations per second, like 400/s)`},
		{"faults[0].at=10x", `--set: faults[0].at: invalid duration "10x"`},
		{"faults[3].at=1s", "--set: faults[3].at: no such item (faults has 1)"},
		{"nemesis.targets[0]=one", "--set: nemesis.targets[0]: no such item (nemesis.targets has 0)"},
		{"duration.x=1", "--set: duration.x: duration is not a mapping"},
		{"faults.at=1s", "--set: faults.at: faults is not a mapping"},
		{"cluster[0]=1", "--set: cluster[0]: cluster is not a list"},
		{"cluster.nodes=0", "--set: cluster.nodes: must be at least 1"},
		{"cluster.options.replication=eventually", `--set: cluster.options.replication: invalid value "eventually" (want sync, semi-sync or async)`},
		{"cluster.options.colour=red", "--set: cluster.options.colour: unknown option for hakv (known: replication, election, failover_timeout, heartbeat, fsync, stale_reads, ship_delay)"},
		{"faults[0].target={isolate: n2}", "--set: faults[0].target: isolate, groups, from and to are for partitions; kill takes one target like primary"},
		{"faults[0].target=n4", "--set: faults[0].target: n4 names no node (the cluster has n1..n3)"},
		// A change that breaks a rule of another field reports that field,
		// where the file wrote it.
		{"duration=15s", "builtin/kill-primary.yaml:19: faults[0].restart_after: fault ends at 20s, after the run ends at 15s"},
		{"nemesis.kinds=[kill", "--set: nemesis.kinds: invalid value \"[kill\": line 1: did not find expected ',' or ']'"},
	}
	for _, tc := range cases {
		t.Run(tc.set, func(t *testing.T) {
			s := builtin(t, "kill-primary")
			before, _ := s.Dump()
			err := Set(s, tc.set)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) is false")
			}
			if after, _ := s.Dump(); string(after) != string(before) {
				t.Errorf("a failed Set changed the scenario")
			}
		})
	}
}

func TestSetNodesChecksTargetsAgain(t *testing.T) {
	s := builtin(t, "partition-primary")
	err := Set(s, "cluster.nodes=1")
	want := "builtin/partition-primary.yaml:19: faults[0].target: a partition needs at least 2 nodes, the cluster has 1"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestSetAccumulates(t *testing.T) {
	s := builtin(t, "kill-primary")
	for _, a := range []string{"cluster.image=hakv:new", "workload.clients=2", "cluster.image=hakv:newer"} {
		if err := Set(s, a); err != nil {
			t.Fatal(err)
		}
	}
	if s.Cluster.Image != "hakv:newer" || s.Workload.Clients != 2 {
		t.Errorf("cluster %+v, clients %d", s.Cluster, s.Workload.Clients)
	}
	// Fields that were not overridden keep their file lines in errors.
	err := Set(s, "duration=15s")
	if err == nil || !strings.HasPrefix(err.Error(), "builtin/kill-primary.yaml:19: ") {
		t.Errorf("error = %v", err)
	}
}

func TestSetKeepsChangesMadeInGo(t *testing.T) {
	s := builtin(t, "kill-primary")
	seed := s.EnsureSeed()
	if err := Set(s, "workload.keys=4"); err != nil {
		t.Fatal(err)
	}
	if s.Seed == nil || *s.Seed != seed || s.Workload.Keys != 4 {
		t.Errorf("seed %v (want %d), keys %d", s.Seed, seed, s.Workload.Keys)
	}
	// The tree now comes from the values, so errors have no line.
	err := Set(s, "duration=15s")
	want := "builtin/kill-primary.yaml: faults[0].restart_after: fault ends at 20s, after the run ends at 15s"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

func TestSetOnScenarioBuiltInGo(t *testing.T) {
	s := Default()
	s.Name, s.Duration = "from-go", sec(30)
	if err := Set(s, "cluster.options.fsync=never"); err != nil {
		t.Fatal(err)
	}
	if s.Cluster.Options["fsync"] != "never" || s.Cluster.Options["replication"] != "sync" {
		t.Errorf("options = %v", s.Cluster.Options)
	}
	err := Set(s, "workload.rate=0")
	if err == nil || err.Error() != "--set: workload.rate: must be more than 0/s" {
		t.Errorf("error = %v", err)
	}
}

func TestSetThroughAnAliasChangesOnlyThatUse(t *testing.T) {
	s := mustLoad(t, "testdata/valid/anchors.yaml")
	if err := Set(s, "faults[1].at=7s"); err != nil {
		t.Fatal(err)
	}
	if s.Faults[0].At != sec(5) || s.Faults[1].At != sec(7) {
		t.Errorf("at = %s, %s; want 5s, 7s", s.Faults[0].At, s.Faults[1].At)
	}
	if err := Set(s, "targets.rto=9s"); err != nil {
		t.Fatal(err)
	}
	if *s.Targets.RTO != sec(9) || *s.Targets.RPOWindow != sec(5) {
		t.Errorf("rto %s, rpo_window %s; want 9s, 5s", *s.Targets.RTO, *s.Targets.RPOWindow)
	}
}
