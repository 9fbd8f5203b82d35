package cluster

import (
	"fmt"
	"net"
	"strings"
)

// freePort asks the kernel for a free TCP port on 127.0.0.1. The port is
// bound explicitly when the container is created, so it stays the same when
// the node is restarted: clients cache addresses. Another process may take it
// between here and then; Start retries with a new port when that happens.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// isPortTaken tells whether a container start failed because its host port
// was taken after freePort chose it.
func isPortTaken(err error) bool {
	s := err.Error()
	return strings.Contains(s, "port is already allocated") ||
		strings.Contains(s, "address already in use")
}
