// The conformance Go client: a registry of cases, each a few lines of nats.go.
//
//	go-client list            prints one JSON object per case (name, flags, config, timeout)
//	go-client run <case> <url> runs one case; stdout is the observation
//
// Observation lines must be identical against natsd and nats-server, so a case
// prints only what does not legitimately vary (no ids, ports, inbox names, timings).
// `FAIL: ...` marks a failed expectation of the case itself; `@restart` asks the
// harness to restart the server on the same port and waits for `ok` on stdin.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Case is one conformance case. Flags and Config configure both servers alike.
type Case struct {
	Name    string   `json:"name"`
	Flags   []string `json:"flags,omitempty"`
	Config  string   `json:"config,omitempty"`
	Timeout int      `json:"timeout,omitempty"`
	run     func(t *T)
}

var cases []*Case

// reg registers a case; opts are (in any order) []string flags, a string config, an int timeout.
func reg(name string, run func(t *T), opts ...interface{}) {
	c := &Case{Name: name, run: run, Timeout: 30}
	for _, o := range opts {
		switch v := o.(type) {
		case []string:
			c.Flags = v
		case string:
			c.Config = v
		case int:
			c.Timeout = v
		}
	}
	cases = append(cases, c)
}

// T is what a case sees.
type T struct {
	URL   string
	stdin *bufio.Reader
	conns []*nats.Conn
}

type failNow struct{}

// Obs records an observation line.
func (t *T) Obs(format string, args ...interface{}) { fmt.Printf(format+"\n", args...) }

// Fail records a failed expectation and ends the case.
func (t *T) Fail(format string, args ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	panic(failNow{})
}

// Check fails the case when err is not nil.
func (t *T) Check(err error, what string) {
	if err != nil {
		t.Fail("%s: %v", what, err)
	}
}

// Connect opens a connection that is closed when the case ends.
func (t *T) Connect(opts ...nats.Option) *nats.Conn {
	nc, err := nats.Connect(t.URL, append([]nats.Option{nats.Timeout(5 * time.Second)}, opts...)...)
	t.Check(err, "connect")
	t.conns = append(t.conns, nc)
	return nc
}

// Control asks the harness to act on the server ("restart", "stop", "start",
// or "signal NAME" to send it SIGNAME, e.g. "signal USR2").
func (t *T) Control(op string) {
	if reply := t.control(op); reply != "" {
		t.Fail("control %s: unexpected reply %q", op, reply)
	}
}

// Spare asks the harness for a second server of the same kind and
// configuration as the one under test (for reconnecting elsewhere) and
// returns its URL. It is stopped when the case ends.
func (t *T) Spare() string {
	return "nats://127.0.0.1:" + t.control("spare")
}

// control sends one control line and returns what follows "ok" in the reply.
func (t *T) control(op string) string {
	fmt.Printf("@%s\n", op)
	os.Stdout.Sync()
	line, err := t.stdin.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ok") {
		t.Fail("control %s: %q %v", op, line, err)
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "ok"))
}

// ErrText is an error's text, or "<nil>".
func ErrText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func main() {
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	if len(os.Args) >= 2 && os.Args[1] == "list" {
		enc := json.NewEncoder(os.Stdout)
		for _, c := range cases {
			enc.Encode(c)
		}
		return
	}
	if len(os.Args) != 4 || os.Args[1] != "run" {
		fmt.Fprintln(os.Stderr, "usage: go-client list | run <case> <url>")
		os.Exit(2)
	}
	for _, c := range cases {
		if c.Name == os.Args[2] {
			t := &T{URL: os.Args[3], stdin: bufio.NewReader(os.Stdin)}
			func() {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(failNow); !ok {
							fmt.Printf("FAIL: panic: %v\n", r)
						}
					}
				}()
				c.run(t)
			}()
			for _, nc := range t.conns {
				nc.Close()
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "no such case %q\n", os.Args[2])
	os.Exit(2)
}
