package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/systems/registry"
)

// invalidCases pairs each file of testdata/invalid with every error Parse
// must report for it, exactly and in order.
var invalidCases = []struct {
	file string
	want []string
}{
	{"cluster.yaml", []string{
		"cluster.yaml:4: cluster.system: unknown system \"mysql\" (known: " + strings.Join(registry.Names(), ", ") + ")",
		"cluster.yaml:5: cluster.nodes: must be at least 1",
	}},
	{"durations.yaml", []string{
		"durations.yaml:2: duration: duration needs a unit, like 10s",
		"durations.yaml:3: settle: duration \"-1s\" is negative",
		"durations.yaml:5: workload.timeout: want a duration like 10s, got a list",
		"durations.yaml:7: faults[0].at: invalid duration \"10x\"",
		"durations.yaml:8: faults[1].at: duration needs a unit, like 10s",
		"durations.yaml:8: faults[1].duration: invalid duration \"\"",
		"durations.yaml:10: targets.rto: duration needs a unit, like 10s",
		"durations.yaml:11: targets.rpo_window: invalid duration \"2 s\"",
	}},
	{"empty-list-item.yaml", []string{
		"empty-list-item.yaml:4: faults[0]: empty list item",
	}},
	{"empty.yaml", []string{
		"empty.yaml: empty scenario",
	}},
	{"fault-kind.yaml", []string{
		"fault-kind.yaml:4: faults[0].kind: unknown fault kind \"explode\" (known: " + knownKinds() + ")",
	}},
	{"fault-params.yaml", []string{
		"fault-params.yaml:4: faults[0].duration: not a parameter of kill (use restart_after)",
		"fault-params.yaml:5: faults[1].duration: required for pause",
		"fault-params.yaml:5: faults[1].restart_after: not a parameter of pause (use duration)",
		"fault-params.yaml:6: faults[2].duration: required for loss",
		"fault-params.yaml:6: faults[2].percent: required for loss",
		"fault-params.yaml:7: faults[3].percent: must be more than 0 and at most 100, got 150",
		"fault-params.yaml:7: faults[3].jitter: not a parameter of loss",
		"fault-params.yaml:8: faults[4].percent: must be more than 0 and at most 100, got 0",
		"fault-params.yaml:9: faults[5].delay: required for delay",
		"fault-params.yaml:10: faults[6].duration: must be more than 0s",
		"fault-params.yaml:10: faults[6].delay: must be more than 0s",
		"fault-params.yaml:11: faults[7].rate: invalid bandwidth \"1mbps\" (want a number with bit, kbit, mbit or gbit, like 1mbit)",
		"fault-params.yaml:12: faults[8].rate: must be more than 0bit",
		"fault-params.yaml:13: faults[9].grace: must be more than 0s (use kill for no grace)",
		"fault-params.yaml:13: faults[9].restart_after: must be more than 0s (leave it out to keep the node down until the run ends)",
		"fault-params.yaml:14: faults[10].percent: not a parameter of disk-slow",
	}},
	{"fault-window.yaml", []string{
		"fault-window.yaml:4: faults[0].at: starts at 30s, when the run has ended (duration 30s)",
		"fault-window.yaml:5: faults[1].duration: fault ends at 35s, after the run ends at 30s",
		"fault-window.yaml:6: faults[2].restart_after: fault ends at 35s, after the run ends at 30s",
	}},
	{"merge-key.yaml", []string{
		"merge-key.yaml:3: base: unknown field",
		"merge-key.yaml:5: faults[0]: merge keys (<<) are not supported; write the fields out",
	}},
	{"name.yaml", []string{
		"name.yaml:1: name: invalid name \"kill primary\" (letters, digits, '.', '_' and '-' only: it names the results folder)",
	}},
	{"nemesis-empty.yaml", []string{
		"nemesis-empty.yaml:4: nemesis.kinds: want at least one kind",
		"nemesis-empty.yaml:5: nemesis.targets: want at least one target",
	}},
	{"nemesis-params.yaml", []string{
		"nemesis-params.yaml:4: nemesis.percent: required for loss",
		"nemesis-params.yaml:5: nemesis.targets[0]: isolating all nodes cuts nothing off (nemesis kinds include partition)",
		"nemesis-params.yaml:6: nemesis.delay: not a parameter of kill, loss or partition",
		"nemesis-params.yaml:7: nemesis.restart_after: unknown field",
	}},
	{"nemesis-start.yaml", []string{
		"nemesis-start.yaml:6: nemesis.start: no fault fits: start 28s + duration 5s ends after the run ends at 30s",
	}},
	{"nemesis-timing.yaml", []string{
		"nemesis-timing.yaml:6: nemesis.duration: must be at most interval (10s), or faults would overlap",
		"nemesis-timing.yaml:7: nemesis.start: no fault fits: start 20s + duration 15s ends after the run ends at 30s",
	}},
	{"nemesis.yaml", []string{
		"nemesis.yaml:4: nemesis.kinds[1]: unknown fault kind \"explode\" (known: " + knownKinds() + ")",
		"nemesis.yaml:5: nemesis.targets[1]: unknown target \"leader\" (want primary, standby, standbys, one, minority, majority, all or a node n1..n3)",
		"nemesis.yaml:5: nemesis.targets[2]: n9 names no node (the cluster has n1..n3)",
		"nemesis.yaml:6: nemesis.interval: must be more than 0s",
		"nemesis.yaml:7: nemesis.duration: must be more than 0s",
	}},
	{"not-a-mapping.yaml", []string{
		"not-a-mapping.yaml:1: want a mapping, got a list",
	}},
	{"options.yaml", []string{
		"options.yaml:6: cluster.options.replication: invalid value \"eventually\" (want sync, semi-sync or async)",
		"options.yaml:9: cluster.options.heartbeat: duration needs a unit, like 10s",
		"options.yaml:10: cluster.options.fsync: invalid value \"sometimes\" (want always or never)",
		"options.yaml:11: cluster.options.stale_reads: invalid value \"yes\" (want true or false)",
		"options.yaml:12: cluster.options.colour: unknown option for hakv (known: replication, election, failover_timeout, heartbeat, fsync, stale_reads, ship_delay)",
	}},
	{"partition-targets.yaml", []string{
		"partition-targets.yaml:4: faults[0].target: isolating all nodes cuts nothing off",
		"partition-targets.yaml:5: faults[1].target.isolate: n5 names no node (the cluster has n1..n3)",
		"partition-targets.yaml:6: faults[2].target.groups: want at least 2 groups, got 1",
		"partition-targets.yaml:7: faults[3].target.groups: n3 is in no group",
		"partition-targets.yaml:7: faults[3].target.groups[1][0]: n2 is in two groups",
		"partition-targets.yaml:8: faults[4].target.groups: n2, n3 are in no group",
		"partition-targets.yaml:8: faults[4].target.groups[1][0]: groups hold node names like n1, got \"primary\"",
		"partition-targets.yaml:8: faults[4].target.groups[1][1]: n7 names no node (the cluster has n1..n3)",
		"partition-targets.yaml:8: faults[4].target.groups[2]: empty group",
		"partition-targets.yaml:9: faults[5].target.to: required with from",
		"partition-targets.yaml:10: faults[6].target.to[0]: n1 is in both from and to",
		"partition-targets.yaml:10: faults[6].target.to[1]: unknown target \"leader\" (want primary, standby, standbys, one, minority, majority, all or a node n1..n3)",
		"partition-targets.yaml:11: faults[7].target: want only one of isolate, groups, or from with to",
		"partition-targets.yaml:12: faults[8].target: empty target (want a selector like primary, or one of isolate, groups, or from with to)",
		"partition-targets.yaml:13: faults[9].target.colour: unknown field",
		"partition-targets.yaml:14: faults[10].target.from: want at least one node",
	}},
	{"repeated-field.yaml", []string{
		"repeated-field.yaml:5: cluster.nodes: repeated field (first on line 4)",
		"repeated-field.yaml:6: duration: repeated field (first on line 2)",
	}},
	{"required.yaml", []string{
		"required.yaml:1: duration: required",
		"required.yaml:3: faults[0].kind: required",
		"required.yaml:4: faults[1].target: required",
		"required.yaml:4: faults[1].at: required",
		"required.yaml:6: nemesis.kinds: required",
	}},
	{"syntax.yaml", []string{
		"syntax.yaml:4: did not find expected key",
	}},
	{"targets-nodes.yaml", []string{
		"targets-nodes.yaml:5: faults[0].target: n4 names no node (the cluster has n1..n3)",
		"targets-nodes.yaml:6: faults[1].target: unknown target \"leader\" (want primary, standby, standbys, one, minority, majority, all or a node n1..n3)",
		"targets-nodes.yaml:7: faults[2].target: empty target",
		"targets-nodes.yaml:8: faults[3].target: unknown target \"n0\" (want primary, standby, standbys, one, minority, majority, all or a node n1..n3)",
		"targets-nodes.yaml:9: faults[4].target: want a target like primary or {isolate: primary}, got a list",
		"targets-nodes.yaml:10: faults[5].target: isolate, groups, from and to are for partitions; pause takes one target like primary",
	}},
	{"targets-one-node.yaml", []string{
		"targets-one-node.yaml:5: faults[0].target: standby names no node in a 1-node cluster",
		"targets-one-node.yaml:6: faults[1].target: standbys names no node in a 1-node cluster",
		"targets-one-node.yaml:7: faults[2].target: minority names no node in a 1-node cluster",
		"targets-one-node.yaml:8: faults[3].target: n2 names no node (the cluster has only n1)",
		"targets-one-node.yaml:9: faults[4].target: a partition needs at least 2 nodes, the cluster has 1",
	}},
	{"targets.yaml", []string{
		"targets.yaml:4: targets.availability: must be between 0 and 1, got 1.5",
		"targets.yaml:5: targets.rpo: must not be negative",
		"targets.yaml:6: targets.settle_window: must be more than 0s",
	}},
	{"timers.yaml", []string{
		"timers.yaml:4: cluster.options.failover_timeout: must be more than twice heartbeat (1s)",
	}},
	{"zero-timers.yaml", []string{
		`zero-timers.yaml:4: cluster.options.heartbeat: invalid value "0s" (must be more than 0s)`,
		`zero-timers.yaml:4: cluster.options.ship_delay: duration "-1s" is negative`,
	}},
	{"two-documents.yaml", []string{
		"two-documents.yaml:2: a scenario file holds one YAML document, found another",
	}},
	{"unknown-field.yaml", []string{
		"unknown-field.yaml:5: workload.colour: unknown field",
		"unknown-field.yaml:6: requires: unknown field",
		"unknown-field.yaml:8: faults[0].restart: unknown field",
		"unknown-field.yaml:9: targets.rpo_seconds: unknown field",
	}},
	{"workload-mix.yaml", []string{
		"workload-mix.yaml:4: workload: read_ratio, write_ratio and cas_ratio are all 0",
	}},
	{"workload-rate.yaml", []string{
		"workload-rate.yaml:4: workload.rate: invalid rate \"400/h\" (want operations per second, like 400/s)",
	}},
	{"workload.yaml", []string{
		"workload.yaml:4: workload.kind: unknown workload \"queue\" (known: register)",
		"workload.yaml:5: workload.ledger_ratio: must be between 0 and 1, got 1.5",
		"workload.yaml:6: workload.read_ratio: must not be negative, got -1",
		"workload.yaml:7: workload.clients: must be at least 1",
		"workload.yaml:8: workload.rate: must be more than 0/s",
		"workload.yaml:9: workload.keys: must be at least 1",
		"workload.yaml:10: workload.timeout: must be more than 0s",
	}},
	{"wrong-shapes.yaml", []string{
		"wrong-shapes.yaml:1: name: want a single value, got a list",
		"wrong-shapes.yaml:3: cluster: want a mapping, got \"3\"",
		"wrong-shapes.yaml:5: workload.clients: want a whole number, got \"many\"",
		"wrong-shapes.yaml:6: workload.rate: want a rate like 400/s, got a mapping",
		"wrong-shapes.yaml:7: faults: want a list, got a mapping",
		"wrong-shapes.yaml:9: nemesis.kinds: want a list, got \"kill\"",
		"wrong-shapes.yaml:11: targets.linearizable: want true or false, got \"maybe\"",
		"wrong-shapes.yaml:12: targets.availability: want a number, got \"high\"",
		"wrong-shapes.yaml:13: targets.rpo: want a whole number, got \"0.5\"",
	}},
	{"nemesis-one-node.yaml", []string{
		"nemesis-one-node.yaml:5: nemesis.kinds[1]: a partition needs at least 2 nodes, the cluster has 1",
		"nemesis-one-node.yaml:6: nemesis.targets[1]: standby names no node in a 1-node cluster",
	}},
	{"shapes-of-maps.yaml", []string{
		"shapes-of-maps.yaml:4: cluster.options: want a mapping, got a list",
		"shapes-of-maps.yaml:6: workload: a key must be a name, got a list",
	}},
}

// knownKinds is the list of kinds an unknown-kind error offers: every
// declared kind, in declaration order.
func knownKinds() string {
	var names []string
	for _, d := range FaultKinds() {
		names = append(names, string(d.Name))
	}
	return strings.Join(names, ", ")
}

func TestParseRejectsInvalidFilesWithEveryError(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, tc := range invalidCases {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/invalid", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(data, tc.file)
			if s != nil {
				t.Errorf("Parse returned a scenario along with the error")
			}
			var ve ValidationErrors
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not ValidationErrors", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) is false")
			}
			got := strings.Split(err.Error(), "\n")
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no case in invalidCases", f)
		}
	}
}
