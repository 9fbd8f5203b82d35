package scenarios

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// The limits below refuse scenarios that no machine could run, before
// anything starts: a typo (nodes: 100000, rate: 10000000/s, duration:
// 87600h) must be an error with its line, not a drill that exhausts the host
// or runs for ten years. They are generous next to the built-in drills
// (3 to 5 nodes, a few hundred operations a second, minutes, a handful of
// faults); `hadrill validate --help` states them from these constants.
const (
	// MaxNodes is hadrill's overall maximum of cluster.nodes: every node is a
	// container with its own agent on the same host (or few engines), and a
	// fault target like "majority" only means something on a small cluster.
	// A system declares its own bounds too (systems.System.Nodes).
	MaxNodes = 32
	// MaxRate is the highest workload.rate, in operations per second. Each
	// operation is two history lines flushed as they happen, and the
	// linearizability check grows with the history.
	MaxRate = 100_000
	// MaxDuration is the longest run (duration): a day. A longer soak is a
	// series of runs, each checked and reported on its own.
	MaxDuration = 24 * time.Hour
	// MaxFaults is the most entries in faults: a schedule longer than this
	// is better written as a nemesis block.
	MaxFaults = 1000
	// MaxFileSize is the largest scenario file read, in bytes.
	MaxFileSize = 1 << 20
	// maxValues bounds the YAML values decoded, counting each alias where it
	// is used, so that aliases nested inside aliases (a "billion laughs"
	// file) cannot make decoding explode.
	maxValues = 100_000
)

// checkSize refuses a scenario file over MaxFileSize, saying what it measured.
func checkSize(data []byte, file string) error {
	if len(data) > MaxFileSize {
		return ValidationErrors{{File: file, Msg: fmt.Sprintf("file too large: %d bytes, at most %d", len(data), MaxFileSize)}}
	}
	return nil
}

// checkValues refuses a document with more than maxValues YAML values,
// saying whether the file itself holds that many or its aliases expand to
// that many: the two are different mistakes.
func checkValues(root *yaml.Node, file string) error {
	written := countValues(root, false, maxValues+1)
	if written > maxValues {
		return ValidationErrors{{File: file, Msg: fmt.Sprintf("document too large: more than %d YAML values written, at most %d", maxValues, maxValues)}}
	}
	if expanded := countValues(root, true, maxValues+1); expanded > maxValues {
		return ValidationErrors{{File: file, Msg: fmt.Sprintf("document too large: its aliases expand %d written YAML values to more than %d, at most %d", written, maxValues, maxValues)}}
	}
	return nil
}

// countValues counts the nodes under n, following aliases when expand is
// set, and stops counting once past limit (so a billion laughs costs
// nothing).
func countValues(n *yaml.Node, expand bool, limit int) int {
	count := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || count > limit {
			return
		}
		if n.Kind == yaml.AliasNode {
			if expand {
				walk(n.Alias)
			} else {
				count++
			}
			return
		}
		if n.Kind != yaml.DocumentNode {
			count++
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return count
}
