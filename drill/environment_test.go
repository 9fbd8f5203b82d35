package drill

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
)

// writeFailingRun writes a run folder whose every write failed: on its
// own, availability fails and so does the verdict.
func writeFailingRun(t *testing.T, env []results.EnvFinding) string {
	t.Helper()
	var ops []history.Op
	for i := range 50 {
		at := int64(i) * int64(100*time.Millisecond)
		ops = append(ops, history.Op{Index: int64(2 * i), Process: 0, Type: history.Invoke, F: history.Write, Key: "k", Value: "v", Time: at},
			history.Op{Index: int64(2*i + 1), Process: 0, Type: history.Fail, F: history.Write, Key: "k", Value: "v", Time: at + 1e6, Error: "no primary"})
	}
	now := time.Now()
	return storedRun(t, ops, nil, results.Meta{RunID: "t", Started: now, LoadStart: now, LoadEnd: int64(5 * time.Second), Finished: now, Environment: env})
}

// TestEnvironmentFindingMakesTheVerdictUnknown: the same failing history
// is fail on its own, and unknown with the reason when the run recorded
// that the nodes could not resolve each other.
func TestEnvironmentFindingMakesTheVerdictUnknown(t *testing.T) {
	v, err := CheckRun(t.Context(), writeFailingRun(t, nil), CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Verdict != checker.Fail {
		t.Fatalf("without findings: verdict %s, want fail (the fixture must fail on its own)", v.Verdict)
	}
	if _, ok := v.Checks[checker.CheckEnvironment]; ok {
		t.Errorf("an environment check without findings: %+v", v.Checks[checker.CheckEnvironment])
	}
	found := []results.EnvFinding{{Kind: results.EnvDNS, Node: "n2", Detail: "cannot resolve n1 with no fault in force: lookup n1 on 127.0.0.11:53: no such host"}}
	dir := writeFailingRun(t, found)
	v, err = CheckRun(t.Context(), dir, CheckOptions{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	env := v.Checks[checker.CheckEnvironment]
	t.Logf("verdict %s; environment %+v", v.Verdict, env)
	if v.Verdict != checker.Unknown || env.Result != checker.Unknown || !strings.Contains(env.Detail, "dns on n2: cannot resolve n1") {
		t.Errorf("with a DNS finding: verdict %s, environment %+v; want unknown with the reason", v.Verdict, env)
	}
	if v.Checks[checker.CheckAvailability].Result != checker.Fail {
		t.Errorf("availability %+v: the measured checks keep their own results", v.Checks[checker.CheckAvailability])
	}
	b, err := os.ReadFile(results.RunDir{Path: dir}.File(results.SummaryFile))
	if err != nil || !strings.Contains(string(b), "the environment broke") {
		t.Errorf("summary.md does not name the environment check:\n%s", b)
	}
}

func TestEnvFindingsWalksJoinedErrors(t *testing.T) {
	dns := &results.EnvFinding{Kind: results.EnvDNS, Node: "n1", Detail: "x"}
	agentGone := &results.EnvFinding{Kind: results.EnvAgent, Node: "n2", Detail: "y"}
	err := envError("verify", errors.Join(errors.Join(nil, dns), fmt.Errorf("heal: %w", agentGone)))
	if got := results.EnvFindings(err); len(got) != 2 || got[0].Kind != results.EnvDNS || got[1].Kind != results.EnvAgent {
		t.Errorf("findings %+v", got)
	}
	if !errors.Is(err, engine.ErrEnvironment) {
		t.Errorf("%v is not an environment error (exit 3)", err)
	}
}
