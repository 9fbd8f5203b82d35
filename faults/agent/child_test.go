package agent_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// runChild is the supervised process of the tests:
//
//	serve ADDR   answer every HTTP request with the pid; exit 42 on SIGTERM
//	exit N       exit with code N at once
//
// It also exits when its parent changes, so an agent killed by a failing
// test does not leave it behind.
func runChild(args []string) int {
	go func() {
		parent := os.Getppid()
		for range time.Tick(100 * time.Millisecond) {
			if os.Getppid() != parent {
				os.Exit(3)
			}
		}
	}()
	switch args[0] {
	case "exit":
		code, _ := strconv.Atoi(args[1])
		return code
	case "serve":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM)
		ln, err := net.Listen("tcp", args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		go func() {
			_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprint(w, os.Getpid())
			}))
		}()
		<-sigs
		return 42
	}
	return 2
}
