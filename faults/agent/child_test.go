package agent_test

import (
	"context"
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
//	get URL      print how long an HTTP GET took (2 s timeout), exit 1 on error
//	fsync PATH   print how long a write+fsync of PATH took
//	lookup NAME  print the addresses of NAME (2 s timeout)
//	churn DIR    create, write, read and remove files in DIR until killed
//	daemon DIR PIDFILE  start churn DIR in a session of its own (as a
//	             PostgreSQL backend is), write its pid to PIDFILE, and wait
//
// The last three are probes for running the agent in a container by hand
// (docker exec NODE /agent hadrill-agent-test-child get http://...).
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
	case "churn":
		return churn(args[1])
	case "daemon":
		return daemon(args[1], args[2])
	case "get", "fsync", "lookup":
		return probe(args[0], args[1])
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

// probe runs one of the manual probes and prints its outcome and duration.
func probe(kind, arg string) int {
	start := time.Now()
	var out string
	var err error
	switch kind {
	case "get":
		var resp *http.Response
		if resp, err = (&http.Client{Timeout: 2 * time.Second}).Get(arg); err == nil {
			resp.Body.Close()
			out = resp.Status
		}
	case "fsync":
		var f *os.File
		if f, err = os.OpenFile(arg, os.O_RDWR|os.O_CREATE, 0o644); err == nil {
			if _, err = f.Write([]byte("probe\n")); err == nil {
				err = f.Sync()
			}
			f.Close()
		}
	case "lookup":
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var addrs []string
		addrs, err = net.DefaultResolver.LookupHost(ctx, arg)
		out = fmt.Sprint(addrs)
	}
	fmt.Printf("%s %s: %v %s (err: %v)\n", kind, arg, time.Since(start).Round(time.Microsecond), out, err)
	if err != nil {
		return 1
	}
	return 0
}
