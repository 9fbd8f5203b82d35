package scenarios

import (
	"fmt"
	"strings"
	"testing"
)

// TestLimits: each documented limit refuses absurd input with the file, the
// line and the field, and a value at the limit is accepted. (Before:
// nodes: 100000, rate: 10000000/s and duration: 87600h were all valid.)
func TestLimits(t *testing.T) {
	faults := func(n int) string {
		var b strings.Builder
		b.WriteString("duration: 100s\nfaults:\n")
		for range n {
			b.WriteString("  - {kind: kill, target: primary, at: 1s}\n")
		}
		return b.String()
	}
	cases := []struct {
		name, yaml, want string
	}{
		{"nodes", "duration: 10s\ncluster:\n  nodes: 100000\n", "x.yaml:3: cluster.nodes: must be at most 32, got 100000"},
		{"nodes at the limit", fmt.Sprintf("duration: 10s\ncluster:\n  nodes: %d\n", MaxNodes), ""},
		{"rate", "duration: 10s\nworkload:\n  rate: 10000000/s\n", "x.yaml:3: workload.rate: must be at most 100000/s, got 1e+07/s"},
		{"rate at the limit", "duration: 10s\nworkload:\n  rate: 100000/s\n", ""},
		{"duration", "duration: 87600h\n", "x.yaml:1: duration: must be at most 24h0m0s, got 87600h0m0s (a longer soak is a series of runs)"},
		{"duration at the limit", "duration: 24h\n", ""},
		{"faults", faults(MaxFaults + 1), fmt.Sprintf("x.yaml:3: faults: at most %d faults, got %d", MaxFaults, MaxFaults+1) + " (a nemesis block draws a long schedule)"},
		{"faults at the limit", faults(MaxFaults), ""},
		// Each system's own bounds (systems.System.Nodes).
		{"mariadb-keepalived runs a pair", "duration: 10s\ncluster:\n  system: mariadb-keepalived\n  nodes: 3\n",
			"x.yaml:4: cluster.nodes: must be at most 2 for mariadb-keepalived (a keepalived VRRP pair: one primary, one replica), got 3"},
		{"mariadb-keepalived pair", "duration: 10s\ncluster:\n  system: mariadb-keepalived\n  nodes: 2\n", ""},
		{"colocated Sentinels need a node each", "duration: 10s\ncluster:\n  system: redis-sentinel\n  nodes: 2\n",
			"x.yaml:4: cluster.nodes: must be at least 3 for redis-sentinel (sentinels: colocated runs one of the 3 Sentinels in each node), got 2"},
		{"separate Sentinels", "duration: 10s\ncluster:\n  system: redis-sentinel\n  nodes: 2\n  options: {sentinels: separate}\n", ""},
		{"etcd members", "duration: 10s\ncluster:\n  system: etcd\n  nodes: 9\n",
			"x.yaml:4: cluster.nodes: must be at most 7 for etcd (etcd recommends at most 7 members), got 9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "x.yaml")
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused at the limit: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Errorf("error %v\nwant  %s", err, tc.want)
			}
		})
	}
}

// TestSizeLimitsSayWhatTheyMeasured: a file of 200 000 faults with no alias
// is refused for its size in bytes, a small file with too many values for
// the values it holds, and only a file whose aliases expand is told so.
// Nothing else is reported: a document too large is not checked field by
// field. (Before: all three were "aliases expand to more than 100000
// values", with errors for fields that were present.)
func TestSizeLimitsSayWhatTheyMeasured(t *testing.T) {
	var big strings.Builder
	big.WriteString("duration: 100s\nfaults:\n")
	for range 200_000 {
		big.WriteString("  - {kind: kill, target: primary, at: 1s}\n")
	}
	var many strings.Builder
	many.WriteString("duration: 100s\nfaults:\n")
	for range maxValues / 4 {
		many.WriteString("- {a: 1, b: 2}\n")
	}
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n" +
		"duration: 10s\n"
	cases := []struct{ name, yaml, want string }{
		{"200 000 faults", big.String(), fmt.Sprintf("x.yaml: file too large: %d bytes, at most %d", big.Len(), MaxFileSize)},
		{"many values", many.String(), "x.yaml: document too large: more than 100000 YAML values written, at most 100000"},
		{"billion laughs", laughs, "x.yaml: document too large: its aliases expand 63 written YAML values to more than 100000, at most 100000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "x.yaml")
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %.300v\nwant  %s", err, tc.want)
			}
		})
	}
}
