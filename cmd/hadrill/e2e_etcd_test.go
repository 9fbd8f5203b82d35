package main

import (
	"path/filepath"
	"testing"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestEtcdKillLeader drills the first real system, built from Debian's
// etcd-server: the leader is killed and restarted. Jepsen's analysis of etcd
// 3.4.3 says key-value operations stay linearizable and lose nothing; the
// drill must agree, with a new leader within 5 s. The image is built here
// when missing, as in CI.
func TestEtcdKillLeader(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	dir := t.TempDir()
	code, stdout, stderr := hadrill(t, "run", "etcd-kill-leader", "--results", dir)
	t.Logf("stdout:\n%s", stdout)
	if code != exitOK {
		t.Fatalf("etcd-kill-leader exit %d, want 0; stderr:\n%s", code, stderr)
	}
	run := filepath.Join(dir, "etcd-kill-leader", "latest")
	v := readVerdict(t, run)
	rto, rpo := v.Checks["rto"], v.Checks["rpo"]
	switch {
	case v.System != "etcd":
		t.Errorf("system %q, want etcd", v.System)
	case v.Checks["linearizability"].Result != "pass":
		t.Errorf("linearizability %+v, want pass", v.Checks["linearizability"])
	case rpo.Value == nil || *rpo.Value != 0:
		t.Errorf("rpo %+v, want 0 lost writes", rpo)
	case rto.Value == nil || *rto.Value <= 0 || *rto.Value >= 5:
		t.Errorf("rto %+v, want 0 < rto < 5 s", rto)
	}
	recheck(t, run)
	assertNothingLeft(t, dir)
}
