package checker

// ConcurrentHistory exposes the benchmark's generator to the external test
// package, which drives the same code path as `hadrill check`.
var ConcurrentHistory = concurrentHistory
