package workload

// Hooks for the external tests (package workload_test). Those tests use
// workload/workloadtest, which imports this package, so they cannot be
// in-package tests; these few names give them the fake and the state they
// set up.

// ScriptKV is the scripted fake KV of fake_test.go.
type ScriptKV = scriptKV

// NewScriptKV is a ScriptKV over nodes with an empty store.
func NewScriptKV(nodes ...string) *ScriptKV { return newScriptKV(nodes...) }

// SetRan makes r look as if it had run: its clients had acked the ledger
// keys acked, and no client used process finalProcess, which the final read
// then uses.
func SetRan(r *Runner, finalProcess int, acked ...string) {
	r.acked = acked
	r.finalProcess = finalProcess
}

// SetPrimarySeen makes node the primary the clients last saw.
func SetPrimarySeen(r *Runner, node string) { r.stats.primary.Store(&node) }
