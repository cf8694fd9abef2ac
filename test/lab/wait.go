package lab

import (
	"testing"
	"time"
)

// Waiter polls conditions for a test running in the lab, and fails the
// test at once when a process it did not stop on purpose (the controller,
// a speaker) has exited: waiting on a dead process would only time out.
type Waiter struct {
	T   testing.TB
	Lab *Lab
	// Interval between two checks; 0 means 100 ms.
	Interval time.Duration
	// Stopped names the nodes whose speaker the test stopped on purpose.
	Stopped map[string]bool
}

// Eventually polls cond until it holds or timeout passes, then fails the
// test with cond's last state.
func (w Waiter) Eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	w.T.Helper()
	if ok, state := w.Poll(timeout, what, cond); !ok {
		w.T.Fatalf("timed out after %v waiting for %s; last state: %s", timeout, what, state)
	}
}

// Poll is Eventually without the verdict: it reports whether cond came to
// hold within timeout, and cond's last state.
func (w Waiter) Poll(timeout time.Duration, what string, cond func() (bool, string)) (bool, string) {
	w.T.Helper()
	deadline := time.Now().Add(timeout)
	for {
		w.checkProcs(what)
		ok, state := cond()
		if ok {
			return true, state
		}
		if time.Now().After(deadline) {
			return false, state
		}
		time.Sleep(w.interval())
	}
}

// Never polls cond for d and fails the test if it ever holds.
func (w Waiter) Never(d time.Duration, what string, cond func() (bool, string)) {
	w.T.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		w.checkProcs(what)
		if ok, state := cond(); ok {
			w.T.Fatalf("%s, which must not happen: %s", what, state)
		}
		time.Sleep(w.interval())
	}
}

func (w Waiter) interval() time.Duration {
	if w.Interval <= 0 {
		return 100 * time.Millisecond
	}
	return w.Interval
}

func (w Waiter) checkProcs(what string) {
	w.T.Helper()
	if p := w.Lab.Controller; p != nil && p.Exited() {
		w.T.Fatalf("waiting for %s: the controller exited; its log ends with:\n%s", what, p.Tail(30))
	}
	for _, n := range w.Lab.Nodes {
		if w.Stopped[n.Name] {
			continue
		}
		if p, err := w.Lab.Speaker(n.Name); err == nil && p.Exited() {
			w.T.Fatalf("waiting for %s: the speaker on %s exited; its log ends with:\n%s", what, n.Name, p.Tail(30))
		}
	}
}
