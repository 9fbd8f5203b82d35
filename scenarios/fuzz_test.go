package scenarios

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the scenario loader: it must never
// panic, and whatever it accepts must survive Dump and a second Parse (what
// `hadrill run` saves as scenario.yaml is what `hadrill check` reads back).
func FuzzParse(f *testing.F) {
	addFiles(f, filepath.Join("builtin", "*.yaml"), filepath.Join("testdata", "*", "*.yaml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err != nil {
			return
		}
		out, err := s.Dump()
		if err != nil {
			t.Fatalf("dump an accepted scenario: %v", err)
		}
		if _, err := Parse(out, "dumped.yaml"); err != nil {
			t.Fatalf("an accepted scenario does not load back: %v\n%s", err, out)
		}
	})
}

// FuzzSet applies arbitrary --set assignments to a built-in scenario: no
// panic, and a rejected assignment leaves the scenario as it was.
func FuzzSet(f *testing.F) {
	for _, a := range []string{"duration=20s", "workload.rate=100/s", "cluster.options.replication=async",
		"faults[0].at=12s", "faults[0].target={isolate: n2}", "nemesis.kinds=[kill,pause]", "faults[9].at=1s",
		"=", "a.b[", "faults[-1]=x", "targets.rto=", "workload={}", "cluster.nodes=1e9"} {
		f.Add("kill-primary", a)
	}
	f.Add("random-faults", "nemesis.interval=1s")
	f.Fuzz(func(t *testing.T, name, assignment string) {
		s, err := Builtin(name)
		if err != nil {
			return
		}
		before, err := s.Dump()
		if err != nil {
			t.Fatal(err)
		}
		if err := Set(s, assignment); err == nil {
			return
		}
		after, err := s.Dump()
		if err != nil || string(after) != string(before) {
			t.Fatalf("a rejected --set %q changed the scenario (%v)", assignment, err)
		}
	})
}

// addFiles adds the files matching the patterns as seeds.
func addFiles(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, _ := filepath.Glob(p)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}
