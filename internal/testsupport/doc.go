// Package testsupport holds the helpers that the project's tests share, so
// that each rule a test relies on has one home:
//
//   - the CI rule: a test that lacks an engine, a tool or a privilege skips
//     on a laptop and fails under CI=true, where passing by skipping would
//     hide the lack (Missing, NeedDocker, NeedDockerCLI, NeedTool);
//   - a run ID that names the test, and the count of what is left labelled
//     with it on the engine, down to the assertion that nothing is
//     (RunID, Leftovers, AssertRunGone);
//   - the engine test bed: two Docker engines of the test's own, so that
//     Swarm changes never touch the main engine (Engines);
//   - watching a process's output while it runs (Buffer, Tail).
//
// It is imported only by _test.go files. The workload engine's own helpers
// (an in-memory history sink, RunFor, Completions) live in
// workload/workloadtest, next to the package they drive.
package testsupport
