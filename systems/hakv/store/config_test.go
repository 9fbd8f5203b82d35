package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBadFlagsExitTwoNamingTheFlag runs the binary with bad command lines:
// each must exit 2 with a message that names the offending flag.
func TestBadFlagsExitTwoNamingTheFlag(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--id", "n1", "--peers", "n1=127.0.0.1:1", "--data", dir}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", append(base, "--bogus"), "-bogus"},
		{"malformed duration", append(base, "--heartbeat=fast"), "-heartbeat"},
		{"unknown replication", append(base, "--replication=quorum"), "-replication"},
		{"unknown election", append(base, "--election=maybe"), "-election"},
		{"unknown fsync", append(base, "--fsync=sometimes"), "-fsync"},
		{"malformed bool", append(base, "--stale-reads=perhaps"), "-stale-reads"},
		{"peer without address", append(base, "--peers=n1"), "-peers"},
		{"peer without port", append(base, "--peers=n1=host"), "-peers"},
		{"missing id", []string{"--peers", "n1=127.0.0.1:1", "--data", dir}, "--id"},
		{"id not among peers", append(base, "--peers=n2=127.0.0.1:1"), "--peers"},
		{"missing data", []string{"--id", "n1", "--peers", "n1=127.0.0.1:1"}, "--data"},
		{"heartbeat too slow", append(base, "--heartbeat=1s", "--failover-timeout=1s"), "--heartbeat"},
		{"bad listen", append(base, "--listen=nowhere"), "--listen"},
		{"positional argument", append(base, "extra"), "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, hakvBin, tc.args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("%v: exit %v, want code 2; stderr: %s", tc.args, err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr does not name %q: %s", tc.want, stderr.String())
			}
		})
	}
}

// TestParseFlagsDefaults: the spec's defaults, and the spec's example line.
func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := ParseFlags([]string{"--id", "n1", "--peers", "n1=a:7000,n2=b:7000,n3=c:7000", "--data", "/d"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:7000" || cfg.Replication != Sync || cfg.Election != Quorum ||
		cfg.Heartbeat != 200*time.Millisecond || cfg.FailoverTimeout != 2*time.Second ||
		!cfg.FsyncAlways || cfg.StaleReads || len(cfg.Peers) != 3 || cfg.majority() != 2 {
		t.Errorf("defaults: %+v", cfg)
	}
	spec := strings.Fields("--id n1 --listen 0.0.0.0:7000 --peers n1=h1:7000,n2=h2:7000,n3=h3:7000 --data /d " +
		"--replication semi-sync --election unilateral --heartbeat 200ms --failover-timeout 2s --fsync never --stale-reads=true")
	cfg, err = ParseFlags(spec, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Replication != SemiSync || cfg.Election != Unilateral || cfg.FsyncAlways || !cfg.StaleReads {
		t.Errorf("spec line: %+v", cfg)
	}
	cfg, err = ParseFlags(append(spec, "--failover-timeout=300ms"), io.Discard)
	if err == nil {
		t.Errorf("--heartbeat 200ms with --failover-timeout 300ms accepted")
	}
	short := []string{"--id", "n1", "--peers", "n1=a:1", "--data", "/d", "--failover-timeout=300ms"}
	if cfg, err = ParseFlags(short, io.Discard); err != nil || cfg.Heartbeat != 30*time.Millisecond {
		t.Errorf("a short --failover-timeout alone should shorten the default heartbeat: %v %v", cfg.Heartbeat, err)
	}
	if cfg.lease() >= cfg.voteGuard() || cfg.voteGuard() >= cfg.FailoverTimeout {
		t.Errorf("want lease < vote guard < failover timeout: %s %s %s", cfg.lease(), cfg.voteGuard(), cfg.FailoverTimeout)
	}
}
