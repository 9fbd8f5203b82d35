package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestRedisPartitionLosesAcknowledgedWrites reproduces Jepsen's 2013 Redis
// finding on the real thing, built from Debian's packages by the test
// itself: the primary and its Sentinel (a sidecar in the same node) are cut
// off, the majority promotes a replica, the old primary keeps acknowledging
// writes, and the heal discards them. The drill must exit 1 with lost
// writes, and the old primary's log must show its Sentinel losing sight of
// the other Sentinels during the partition (the partition cut it off too).
func TestRedisPartitionLosesAcknowledgedWrites(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	dir := t.TempDir()
	code, stdout, stderr := hadrill(t, "run", "redis-partition-primary", "--results", dir)
	t.Logf("stdout:\n%s", stdout)
	run := filepath.Join(dir, "redis-partition-primary", "latest")
	defer assertRunLeftNothing(t, run)
	if code != exitFailed {
		t.Fatalf("redis-partition-primary exit %d, want 1; stderr:\n%s", code, stderr)
	}
	v := readVerdict(t, run)
	if rpo := v.Checks["rpo"]; rpo.Result != "fail" || rpo.Value == nil || *rpo.Value <= 0 {
		t.Errorf("rpo %+v: want fail with acknowledged writes lost", rpo)
	}
	if lin := v.Checks["linearizability"]; lin.Result != "fail" {
		t.Errorf("linearizability %+v: want fail", lin)
	}
	// Sentinel's own words, in the isolated node's log: the other
	// Sentinels went subjectively down (+sdown sentinel ...) because the
	// partition cut this node's Sentinel off too, and after the heal the
	// node was made a replica of the new primary (REPLICAOF).
	sdown := regexp.MustCompile(`\+sdown sentinel \w+ (n\d) 26379`)
	var isolated string
	for _, n := range []string{"n1", "n2", "n3"} {
		log, err := os.ReadFile(filepath.Join(run, "nodes", n+".log"))
		if err != nil {
			t.Fatal(err)
		}
		peers := map[string]bool{}
		for _, m := range sdown.FindAllSubmatch(log, -1) {
			peers[string(m[1])] = true
		}
		if len(peers) == 2 && strings.Contains(string(log), "REPLICAOF") {
			isolated = n
		}
	}
	if isolated == "" {
		t.Errorf("no node's log shows its Sentinel losing both other Sentinels and the node being demoted: the partition did not cut a Sentinel off")
	}
	t.Logf("isolated node (by its Sentinel's log): %s", isolated)
}
