// Package store is the reference primary/standby key-value store that hadrill
// drills: small, real, and unsafe on purpose in some settings, so that the
// harness has ground truth to detect.
//
// Nodes are separate processes that speak HTTP. A Raft-like log with epochs
// (terms) is replicated from the primary to the standbys:
//
//   - POST /internal/append ([AppendRequest] -> [AppendResponse]) carries
//     entries, or none as a heartbeat every --heartbeat. A standby refuses a
//     lower epoch (fencing), checks that it holds the entry before the new
//     ones with the same epoch, drops a conflicting suffix, and answers after
//     the entries are in its write-ahead log (fsynced with --fsync=always).
//   - POST /internal/vote ([VoteRequest] -> [VoteResponse]) asks for a vote,
//     first as a pre-vote that changes nothing, then for real in a new epoch.
//
// Replication (--replication): sync acknowledges a write once a majority has
// it; semi-sync once one standby has it, or after --semi-sync-timeout on the
// primary alone (until a standby catches up), as MySQL does; async once the
// primary has it.
//
// Election (--election): quorum elects a primary by majority vote. A vote is
// granted only to a candidate whose log is at least as up to date, and only
// by a node that has not heard a live primary for 3/4 of the failover
// timeout. The primary holds a lease of 1/2 of the failover timeout, renewed
// by the majority's answers to its heartbeats; without it the primary stops
// taking writes, stops serving reads and steps down, before any successor
// can be elected. Reads on a quorum primary are served only under the lease
// and after the no-op that opens its epoch is committed, so they are
// linearizable. Unilateral promotes a standby without votes when heartbeats
// stop and never demotes a primary: the naive two-node set-up, which splits
// the brain. A node restarted from its log always rejoins as a standby.
//
// Client API: PUT /kv/{key} (200, 412 for a failed ?if=OLD, 413 over 1 MiB),
// GET /kv/{key} (200 or 404), GET /kv?prefix=P (a JSON object), GET /status,
// GET /healthz. A node that will not serve answers 503 with the header
// Hakv-Primary (possibly empty): nothing was done. A 500 on a write means
// its outcome is unknown.
package store
