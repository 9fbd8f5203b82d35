package testsupport

import (
	"bufio"
	"os"
	"strings"
)

// Tail returns the last n lines of the file at path, or the error reading
// it, for a failed test to print a process's log. It reads the file once
// and keeps only n lines, whatever the log's size.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	ring := make([]string, 0, n)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if len(ring) == n {
			ring = ring[1:]
		}
		ring = append(ring, sc.Text())
	}
	if err := sc.Err(); err != nil {
		ring = append(ring, "(reading stopped: "+err.Error()+")")
	}
	return strings.Join(ring, "\n")
}
