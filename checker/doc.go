// Package checker decides whether a run met its targets. It reads one run's
// history (history.Op events) and faults (history.Fault), and it measures
// five things: linearizability, RTO, RPO, availability and latency. Each is
// its own exported function, and Run runs them all and merges a verdict.
// Every definition below is pinned by tests on hand-made histories in
// testdata/, whose answers are known by construction.
//
// # Conventions
//
// Times in a history are nanoseconds since the run's start, from one
// monotonic clock. Every time and duration in a Check is in seconds.
//
// A check is Pass, Fail or Unknown. Unknown means the check could not decide
// (porcupine timed out, the final read failed, nothing was recorded). It is
// never turned into a pass. Merge ranks fail > unknown > pass, as Jepsen
// does, and merging no results gives Pass.
//
// A check without a target (a nil field of Targets, or Linearizable false)
// is still measured and reported, and its result is Pass. When a target
// would have failed it or left it unknown, its Detail starts with
// "no target; " and says what it saw.
//
// A fault has a window while it is in force: [Requested, Healed), or from
// Requested to the end of the run if it was never healed. RTO and the RPO
// window count from t_f, when the fault took effect on its first node
// (history.Fault.Start; Requested when no node reported the effect); the
// request-to-effect latency is reported per fault (FaultReport). A fault
// that was never requested (Requested 0) has no window and is ignored. Operations
// belong to the window in which they were invoked. Options.Disruptive picks
// the faults that RTO and the RPO window are measured for. By default every
// fault counts.
//
// An operation is served when it completed ok, or when it is a cas answered
// 412 (history.Precondition): a working primary answered it
// (history.Op.Served). The outage, for RTO, is made of failed or
// indeterminate write-type operations, including a cas refused because the
// node is not primary (503): a write the cluster could not take. A run that
// recorded no operation is Unknown whatever its targets, because
// availability is then Unknown even without a target.
//
// The write-type operations are write, ledger write and cas. final_read is
// the final read phase's read-back of ledger keys. It is the checker's own
// instrument, so availability, latency and the op counts leave it out, and
// linearizability treats it as a read.
//
// # Linearizability
//
// The history is checked with porcupine against a register per key, absent
// ("") at the start. The model is partitioned by key, because a store is
// linearizable exactly when each of its keys is.
// Before porcupine runs, the history is checked for the recorder's contract,
// as etcd's robustness tests do (history.Pairer does it while it pairs).
// Every completion must answer an open invocation of the same process,
// function and key, and must not come before it. A process must have at most
// one open invocation. A process that got an indeterminate (info) result must
// never invoke again. A history that breaks the contract gives Unknown, with
// the first violation in Detail.
//
// The history is translated for porcupine as follows:
//   - An ok read or final_read is a read of the value it observed ("" means
//     absent). A failed or indeterminate read is dropped, because it observed
//     nothing.
//   - An ok write is a write over its real interval. An ok cas is a swap that
//     happened, so its expected value must match the register.
//   - A cas answered 412 happened too, over its real interval: it is legal
//     only where the register held another value than the expected one, as
//     in porcupine's own etcd model. A store that answers 412 while the key
//     held the expected value is caught.
//   - Any other failed write or cas is dropped (a 503 included). It certainly
//     did not happen.
//   - An indeterminate write or cas (info, or never completed) is open until
//     the end of time (Return = math.MaxInt64). porcupine may then place it
//     anywhere after its call, or effectively never. An open cas whose
//     expected value does not match is a legal no-op.
//
// porcupine runs with Options.LinearizabilityTimeout (default 60 s), which is
// also cut short by the context's deadline. It checks the keys a batch at a
// time, a few batches at once, without its linearization info, so that the
// check of a long history holds little beside the history. The result is
// Pass when porcupine says Ok, and then nothing of porcupine's is kept. When
// porcupine says Illegal, the whole history is checked once more with
// porcupine.CheckOperationsVerbose, for the info (so a failure takes up to
// twice as long), and the result is Fail. Detail then names each key with no
// linearization. For each such key it names the earliest-returning
// operation outside the longest partial linearization, which is where a
// reader should start. It is Unknown on a timeout or a cancelled context,
// and on a history with no operation left to check ("no operations to
// check"). LinearizabilityResult.WriteVisualization writes porcupine's HTML
// view of a failure, with the faults drawn as annotations, for
// linearizability.html.
//
// # RTO
//
// This section is the one definition of RTO; the code (rto.go) refers to it.
//
// RTO is measured for each disruptive fault from t_f, the moment it took
// effect on its first node. Only write-type operations invoked at or after
// t_f count, in invocation order. A cas answered 412 counts as a success
// (it was served); any other failed cas, such as a 503 from a node that is
// not primary, counts as a failed write.
//
// A success run is a maximal stretch of ok writes in that order. It lasts
// from the earliest acknowledgement among them to the invocation of the next
// failed or indeterminate write, or to the end of the run. It is settled when
// it lasts at least the settle window S (Options.Settle, default 1 s). A run
// cut short by the end of the run counts as settled if it had already lasted
// S, and as unsettled otherwise.
//
//	writes, by invocation:  ok ok | FAIL INFO ok ok FAIL FAIL | ok ok ok ...(>= S) | FAIL FAIL FAIL | ok ok ok ...(>= S)
//	                              t_f                         t_r1                 s2               t_r2
//	                              |<------ outage 1 --------->|                    |<- outage 2 --->|
//	                                          \___/
//	                            a burst shorter than S is merged into the outage
//	RTO = max(t_r1 - t_f, t_r2 - s2)
//
// A fault can cause several outages: an isolated primary that serves until
// its lease runs out and then stops, or a node that rejoins when the fault
// is healed and deposes the leader elected without it (etcd 3.4 without
// pre-vote). So every outage inside the fault's window is measured:
//   - An outage is a stretch of failed or indeterminate writes, in which
//     success runs shorter than S are merged. A write counts from its
//     invocation, so a write that times out much later is part of the
//     outage from the moment it was sent.
//   - It ends at its recovery t_r: the completion of the first ok write of
//     the first settled success run after it began (the earliest
//     acknowledgement of that run). Its length is t_r minus its start.
//   - The first outage, one that begins before any settled success run
//     after t_f, starts at t_f: the cluster has not served settled writes
//     since the fault took effect, so the whole span is downtime, however
//     late the first failed write was invoked. It is found wherever that
//     write falls, as RTO always was.
//   - Every later outage (and a first one that follows a settled run, such
//     as a lease running out) starts at the invocation of its first failed
//     or indeterminate write. That is the first instant the history shows
//     the cluster asked and not serving. The acknowledgement of the last ok
//     write before it is no better: with concurrent clients it can come
//     after that invocation, and what lies between is the client's idle
//     time, not evidence. The failed write's completion is worse: for a
//     timeout it comes a whole client timeout later.
//   - Such an outage belongs to the fault only if that first failed write
//     was invoked before the fault's window closes: when it was healed
//     (history.Fault.Healed) plus S, or never for a fault that was not
//     healed. Later failures are another fault's, or nobody's.
//   - Its cause is the fault's effect, or its heal when the outage started
//     at or after the heal was requested (history.Fault.HealRequested, or
//     Healed when no request was recorded): a node rejoining the cluster.
//
// The fault's RTO is the length of its longest outage. There are four
// cases:
//   - If no write after t_f failed inside the window, the fault caused no
//     outage and RTO = 0.
//   - If an outage has no settled run after it before the run ends, it is
//     unrecovered and RTO is unbounded. The check fails, and verdict.json
//     shows "value": null, "unbounded": true, with a null entry in per_fault.
//   - If no write was invoked after t_f, there is no evidence either way, and
//     that fault's RTO is Unknown.
//   - Each outage is followed until it ends, even past the window, so an
//     overlapping later fault can lengthen an earlier fault's outage.
//
// The value is the largest RTO. per_fault lists each disruptive fault's RTO
// in fault order, and outages, in the same order, each fault's outages:
// start, end and length (end and length null, and "unbounded": true, when
// unrecovered), first_failed (the invocation of its first failed write)
// and cause ("effect" or "heal"), in seconds since the run's start. The
// check fails when any fault's RTO is above the target or unbounded, and
// Detail names the outage that did it. With no disruptive fault, the value
// is left out and per_fault and outages are [].
//
// # RPO
//
// Ledger writes go to fresh write-once keys (history.LedgerPrefix), so they
// show data loss that a register that keeps being overwritten would hide. A
// ledger write that was acknowledged ok is lost if an ok final_read of its
// key (one per key) found the key absent or holding another value. When
// several final reads of a key are ok, any one that disagrees makes the write
// lost. Ledger writes that failed or are indeterminate are never lost,
// because nothing was promised. The value is the count of lost writes.
//
// An acknowledged key without an ok final read is unread, and the result is
// Unknown unless the writes known to be lost already miss a target. Detail
// names the unread keys. If the history has no final_read at all, every
// acknowledged key is unread, and Detail says "no final read".
//
// window_seconds is the time form. Faults are taken in order of t_f. The
// writes lost around a fault are those acknowledged after the latest heal of
// the earlier faults and no later than the fault's own heal (or at any time,
// if it was never healed). The fault's window is t_f minus the earliest
// acknowledgement among those writes, or 0 when none were lost. It is never
// negative, so a write acknowledged after t_f and lost adds 0. The reported
// window is the largest over the disruptive faults. A window target of 0
// fails on any lost write, which is what "lose nothing" means. Other window
// targets compare only the window. A lost write outside every fault's reach
// shows only in the count. Both targets can be set, and missing either one
// fails the check.
//
// # Availability
//
// Availability is served operations ÷ all operations. All operations means
// every invocation that ended ok, fail or info, or that never ended. It is
// computed for the whole run, which is compared with the target (fail when
// below), and for each fault window (per_fault, null when the window holds
// no operations). A cas answered 412 is served; a cas refused with 503 is
// not. With no operations the ratio is undefined. The value is then null
// and the result Unknown, even without a target, so an empty history gives
// an unknown verdict: a run that recorded nothing proves nothing.
//
// # Latency
//
// Latency is measured for ok operations only, from invocation to completion,
// in seconds. A timeout's latency is the client's timeout, not the system's.
// Operations are grouped by kind: read, write, cas, ledger (ledger writes) and
// all. Each group gets p50, p95, p99 and max, for the whole run and for each
// fault window. The quantiles come from gonum's stat.Quantile with
// stat.Empirical on sorted samples, so each one is a latency that was actually
// observed: the smallest with at least that share of the samples at or below
// it. Latency is reported but has no target.
package checker
